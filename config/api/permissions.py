"""Role permissions for API views: each view names the Django permission codenames each method needs.

The codenames are those the roles hold (``curation/roles.py``); superusers hold them all. An anonymous request is
refused with 401 (DRF does that when a permission fails without authentication), a signed-in user without the
permission with 403.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission


class RolePermission(BasePermission):
    """``view.required_permissions = {"GET": ("curation.view_artwork",), "POST": (...)}``.

    A method missing from the mapping is refused, so that adding a method to a view without deciding who may
    call it cannot open it to everybody.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if not hasattr(view, request.method.lower()):
            return True  # the view answers 405 Method Not Allowed; no permission is at stake
        mapping = getattr(view, "required_permissions", {})
        if request.method == "OPTIONS":
            # Describing an endpoint is allowed to whoever may use any of its methods.
            return any(user.has_perms(required) for required in mapping.values())
        required = mapping.get("GET" if request.method == "HEAD" else request.method)
        if required is None:
            return False
        return user.has_perms(required)
