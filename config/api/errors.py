"""One error format for every 4xx/5xx the API answers: ``{"error": {"code", "message", "fields"}}``.

DRF exceptions go through ``api_exception_handler`` (settings ``EXCEPTION_HANDLER``); the domain errors of the
services (``IngestError``, ``ReviewError``) are translated here too, so that views stay free of try/except. Requests
that never reach a DRF view (an unknown URL under ``/api/``, an unhandled crash) get the same envelope from
``handler404`` / ``handler500``; pages keep Django's own error pages.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from curation.selectors import FilterError
from curation.services.ingest import IngestError
from curation.services.review import ReviewError

logger = logging.getLogger(__name__)

API_PATH_PREFIXES = ("/api/", "/predict")


class ApiError(exceptions.APIException):
    """A refused request with a stable ``code`` for programs and a ``message`` for people."""

    def __init__(
        self, *, status_code: int, code: str, message: str, fields: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.message = message
        self.fields = fields or {}


# ReviewError codes (curation/services/review.py) → HTTP status; anything else is a conflict with the task's state.
_REVIEW_STATUS = {
    "forbidden": status.HTTP_403_FORBIDDEN,
    "not_claimant": status.HTTP_403_FORBIDDEN,
    "invalid_decision": status.HTTP_400_BAD_REQUEST,
    "invalid_style": status.HTTP_400_BAD_REQUEST,
    "nothing_to_undo": status.HTTP_404_NOT_FOUND,
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _plain(detail: Any) -> Any:
    """ErrorDetail trees → plain strings, lists and dicts (JSON-safe, schema-stable)."""
    if isinstance(detail, dict):
        return {str(key): _plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_plain(item) for item in detail]
    return str(detail)


def _field_messages(detail: Any) -> dict[str, list[str]]:
    """Validation details as ``{field: [messages]}``; nested serializer errors are flattened to dotted names."""
    fields: dict[str, list[str]] = {}

    def visit(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                visit(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
            for index, item in enumerate(value):
                visit(f"{prefix}.{index}" if prefix else str(index), item)
        elif isinstance(value, list):
            fields.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in value)
        else:
            fields.setdefault(prefix or "non_field_errors", []).append(str(value))

    visit("", detail)
    return fields


def _translate_domain_error(exc: Exception) -> Exception:
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, IngestError):
        return ApiError(status_code=status.HTTP_400_BAD_REQUEST, code=exc.code, message=exc.message)
    if isinstance(exc, FilterError):
        return ApiError(status_code=status.HTTP_400_BAD_REQUEST, code="invalid_filter", message=str(exc))
    if isinstance(exc, ReviewError):
        status_code = _REVIEW_STATUS.get(exc.code, status.HTTP_409_CONFLICT)
        return ApiError(status_code=status_code, code=exc.code, message=exc.message)
    return exc


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (status, ``WWW-Authenticate``, ``Retry-After``) with the body rewritten to the envelope."""
    exc = _translate_domain_error(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django answers 500 through handler500
    if isinstance(exc, ApiError):
        response.data = error_body(exc.error_code, exc.message, exc.fields)
    elif isinstance(exc, exceptions.ValidationError):
        fields = _field_messages(exc.detail)
        general = fields.get("non_field_errors")
        message = general[0] if general else "The request is not valid; see the fields for what to fix."
        response.data = error_body("invalid", message, fields)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        response.data = error_body(str(code), str(_plain(exc.detail)))
    else:
        response.data = error_body("error", str(response.data))
    return response


def _is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PATH_PREFIXES)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api_request(request):
        return JsonResponse(error_body("not_found", "No such resource."), status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api_request(request):
        return JsonResponse(
            error_body("server_error", "The server failed to answer this request; it has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return defaults.server_error(request)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api_request(request):
        return JsonResponse(error_body("bad_request", "The request is malformed."), status=400)
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api_request(request):
        return JsonResponse(error_body("permission_denied", "You may not do this."), status=403)
    return defaults.permission_denied(request, exception)
