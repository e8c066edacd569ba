"""API tokens (DRF's ``authtoken``): one per user, issued by a management command or the admin."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from rest_framework.authtoken.models import Token


def api_token_issue(*, user: AbstractBaseUser, reset: bool = False) -> tuple[Token, bool]:
    """The user's API token, created if missing; ``reset`` replaces an existing one (the old key stops working).

    Returns ``(token, created)``; ``created`` is true for a new or replaced key.
    """
    with transaction.atomic():
        if reset:
            Token.objects.filter(user=user).delete()
        token, created = Token.objects.get_or_create(user=user)
    return token, created


def api_token_revoke(*, user: AbstractBaseUser) -> bool:
    """Delete the user's API token (it stops working at once); False when there was none."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted > 0
