"""Login rate limiting: failed sign-ins are counted in the cache per client address and per account.

After ``LOGIN_MAX_FAILURES`` failures within ``LOGIN_LOCKOUT_SECONDS`` further attempts from that address (or for
that account, from any address) are answered 429 without checking the password, until the window passes.
A success clears the account's counter. If the cache is unreachable the limiter lets sign-ins through: a Redis
outage must not lock the whole team out.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)


def _client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _keys(request: HttpRequest, username: str) -> list[str]:
    # Hash the account name: cache keys must be short, printable, and not a list of usernames in plain text.
    account = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"atelier:login-fail:addr:{_client_address(request)}", f"atelier:login-fail:acct:{account}"]


def _failures(keys: list[str]) -> int:
    try:
        return max((value or 0) for value in cache.get_many(keys).values()) if keys else 0
    except Exception:  # any cache failure means "no limit", see the module docstring.
        logger.warning("login rate limiter: cache unavailable, not limiting")
        return 0


def login_failure_record(*, request: HttpRequest, username: str) -> None:
    """Count one failed sign-in for the client address and for the account."""
    window = settings.ATELIER["LOGIN_LOCKOUT_SECONDS"]
    for key in _keys(request, username):
        try:
            if not cache.add(key, 1, timeout=window):
                cache.incr(key)
        except ValueError:
            # Expired between add and incr: start again.
            cache.set(key, 1, timeout=window)
        except Exception:  # see the module docstring.
            logger.warning("login rate limiter: cache unavailable, failure not counted")


def login_is_locked(*, request: HttpRequest, username: str) -> bool:
    return _failures(_keys(request, username)) >= settings.ATELIER["LOGIN_MAX_FAILURES"]


class RateLimitedLoginView(auth_views.LoginView):
    """Django's login view with the limiter in front of the password check."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        username = request.POST.get("username", "")
        if login_is_locked(request=request, username=username):
            logger.warning("login refused: too many failures", extra={"client": _client_address(request)})
            form = self.get_form()
            # Set the errors directly: validating the form would check the password, which is what we refuse.
            form._errors = ErrorDict(
                {
                    NON_FIELD_ERRORS: form.error_class(
                        ["Too many failed sign-in attempts. Wait a few minutes and try again."],
                        error_class="nonfield",
                    )
                }
            )
            response = self.render_to_response(self.get_context_data(form=form, rate_limited=True))
            response.status_code = 429
            response["Retry-After"] = str(settings.ATELIER["LOGIN_LOCKOUT_SECONDS"])
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        login_failure_record(request=self.request, username=self.request.POST.get("username", ""))
        return super().form_invalid(form)

    def form_valid(self, form):
        try:
            cache.delete(_keys(self.request, form.get_user().get_username())[1])
        except Exception:  # see the module docstring.
            logger.warning("login rate limiter: cache unavailable, counter not cleared")
        return super().form_valid(form)


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's sign-in behind the same limiter (admin.site.login does the rest)."""
    from django.contrib import admin

    username = request.POST.get("username", "") if request.method == "POST" else ""
    if request.method == "POST" and login_is_locked(request=request, username=username):
        logger.warning("admin login refused: too many failures", extra={"client": _client_address(request)})
        response = HttpResponse(
            "Too many failed sign-in attempts. Wait a few minutes and try again.\n",
            status=429,
            content_type="text/plain",
        )
        response["Retry-After"] = str(settings.ATELIER["LOGIN_LOCKOUT_SECONDS"])
        return response
    response = admin.site.login(request)
    # The admin answers a failed sign-in with the form again (200); a success redirects.
    if request.method == "POST" and response.status_code == 200:
        login_failure_record(request=request, username=username)
    return response
