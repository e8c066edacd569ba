"""Project-wide request plumbing: request ids with one structured access line, and security headers."""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config.logging import request_id_var

access_logger = logging.getLogger("atelier.access")

REQUEST_ID_RESPONSE_HEADER = "X-Request-ID"
# A proxy's id is reused only when it is short and plain, so that a client cannot inject text into the logs.
_INCOMING_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Probes are polled every few seconds; one line each would drown the access log.
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class RequestIdMiddleware:
    """Give every request an id (``X-Request-ID`` in and out) and write one JSON access line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _INCOMING_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_RESPONSE_HEADER] = request_id
            if request.path not in _QUIET_PATHS or response.status_code >= 400:
                user = getattr(request, "user", None)
                access_logger.info(
                    "%s %s %d",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "user_id": user.pk if user is not None and user.is_authenticated else None,
                    },
                )
            return response
        finally:
            request_id_var.reset(token)


def content_security_policy() -> str:
    """The CSP sent with every HTML page; ``ATELIER_CSP`` in the environment replaces it as a whole."""
    return settings.ATELIER_CSP


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set: a Content-Security-Policy for pages, and a
    Permissions-Policy. (nosniff, HSTS, referrer policy and frame-deny come from Django's own middleware.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        # The API docs page (Swagger UI) sets its own policy where it needs one; never overwrite.
        if content_type.startswith("text/html") and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy()
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class DatabaseOutageRetryMiddleware:
    """Ride out a short database outage (a PostgreSQL restart or failover) instead of answering 500.

    When the view failed because the database connection broke, the connections are closed, the database is
    polled until it answers again (at most ``DB_OUTAGE_RETRY_SECONDS``) and the request runs once more. Only
    requests that are safe to run twice are retried: reads, and the upload endpoints listed in
    ``DB_OUTAGE_RETRY_PATHS`` (ingest is idempotent by content hash, so a re-run of an upload whose first
    commit did land finds the artwork instead of creating a second). If the database does not come back in
    time the answer is 503 with ``Retry-After``, never a bare 500.
    """

    SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        from django.db import InterfaceError, OperationalError

        if isinstance(exception, (OperationalError, InterfaceError)):
            request._atelier_database_outage = exception
        return None

    def _retryable(self, request: HttpRequest) -> bool:
        if request.method in self.SAFE_METHODS:
            return True
        return request.path in settings.ATELIER["DB_OUTAGE_RETRY_PATHS"]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        outage = getattr(request, "_atelier_database_outage", None)
        if outage is None:
            return response
        deadline = time.monotonic() + settings.ATELIER["DB_OUTAGE_RETRY_SECONDS"]
        attempt = 0
        # A few attempts at most: an OperationalError that is not an outage (a statement timeout, say) must not
        # make one request run over and over.
        while outage is not None and self._retryable(request) and time.monotonic() < deadline and attempt < 3:
            attempt += 1
            access_logger.warning(
                "database unavailable (%s); retrying %s %s", outage, request.method, request.path,
                extra={"attempt": attempt},
            )  # fmt: skip
            if not _wait_for_database(deadline):
                break
            request._atelier_database_outage = None
            response = self.get_response(request)
            outage = getattr(request, "_atelier_database_outage", None)
        if outage is None:
            return response
        from django.db import DatabaseError, connections
        from django.http import JsonResponse

        # Do not leave a dead connection for the next request on this thread.
        for connection in connections.all(initialized_only=True):
            with contextlib.suppress(DatabaseError):
                connection.close()

        unavailable = JsonResponse(
            {"error": {"code": "database_unavailable", "message": "The database is unavailable; try again shortly."}},
            status=503,
        )
        unavailable["Retry-After"] = "5"
        return unavailable


def _wait_for_database(deadline: float) -> bool:
    """Close the broken connections and poll until the database answers (True) or the deadline passes."""
    from django.db import DatabaseError, connections

    delay = 0.2
    while True:
        for connection in connections.all(initialized_only=True):
            with contextlib.suppress(DatabaseError):
                connection.close()
        try:
            connections["default"].ensure_connection()
            return True
        except DatabaseError:
            if time.monotonic() + delay > deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
