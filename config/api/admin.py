"""Admin action "Create API tokens" on the users list.

``config`` is not an app, so admin autodiscovery never imports this module: ``config/api_urls.py`` imports it,
which happens when the URLconf (and with it the admin site's URLs) is loaded, before any admin page is served.
The registered user admin (Django's or a project subclass) is extended, not replaced.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model

from config.api.tokens import api_token_issue


@admin.action(description="Create API tokens for the selected users", permissions=["change"])
def create_api_tokens(modeladmin, request, queryset) -> None:
    issued = [api_token_issue(user=user)[0] for user in queryset.filter(is_active=True)]
    skipped = queryset.filter(is_active=False).count()
    for token in issued:
        modeladmin.message_user(request, f"API token for {token.user}: {token.key}", messages.SUCCESS)
    if skipped:
        modeladmin.message_user(request, f"{skipped} inactive user(s) got no token.", messages.WARNING)


def install_token_action(site: admin.AdminSite = admin.site) -> None:
    User = get_user_model()
    registered = site._registry.get(User)
    if registered is None or create_api_tokens in (registered.actions or ()):
        return
    registered.actions = [*(registered.actions or ()), create_api_tokens]
