"""Request rates per client, counted in the default cache (Redis when ``REDIS_URL`` is set).

Rates are read from settings on every request rather than frozen at import (DRF's own classes copy the
setting once), so that a deployment and the tests can change them without restarting the process.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


class _SettingsRateMixin:
    scope: str

    def get_rate(self) -> str | None:
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(self.scope)


class AnonThrottle(_SettingsRateMixin, AnonRateThrottle):
    """Anonymous clients, by address: 100/hour by default, as the prototype promised."""


class UserThrottle(_SettingsRateMixin, UserRateThrottle):
    """Signed-in clients (token or session), by user: ``ATELIER_THROTTLE_USER``."""


class UploadThrottle(_SettingsRateMixin, SimpleRateThrottle):
    """Uploads have their own budget, so that a bulk upload cannot starve a client's reads (and vice versa)."""

    scope = "uploads"

    def get_cache_key(self, request, view) -> str:
        if request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
