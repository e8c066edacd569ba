"""Role checks for the pages: every page needs a signed-in user, and each action its permission codename.

A signed-in user without the permission gets 403 (refused on the server, whatever the page showed); an anonymous
visitor is sent to the sign-in page. Superusers hold every permission.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def role_required(*permissions: str) -> Callable:
    """Require login and every permission in ``permissions`` (codenames from curation/roles.py)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perms(permissions):
                raise PermissionDenied("Your role does not allow this.")
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
