"""OpenAPI pieces shared by every endpoint: the error envelope and the responses every operation can give."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable reason, e.g. `unsupported_format`.")
    message = serializers.CharField(help_text="What went wrong, written for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per input field, what is wrong with it (empty when the error is not about a field).",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_ERROR_EXAMPLE = {
    "error": {"code": "not_authenticated", "message": "Authentication credentials were not provided.", "fields": {}}
}
# Documented on every operation: any endpoint can refuse a client for these reasons.
_COMMON_ERRORS = {
    "401": "Not signed in: send `Authorization: Token <key>` (the response carries `WWW-Authenticate`).",
    "403": "Signed in, but the user's roles do not allow this.",
    "429": "Too many requests: wait the number of seconds in `Retry-After`.",
}


# Written out (not derived from ErrorSerializer) so that the hook works whether or not a view referenced it.
_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ERROR_REF, "examples": {"error": {"value": _ERROR_EXAMPLE}}}},
    }


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """Postprocessing hook: the Error component, the common refusals, and ``default`` for any other 4xx/5xx."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", _ERROR_SCHEMA)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in _COMMON_ERRORS.items():
                responses.setdefault(code, _error_response(description))
            responses.setdefault("default", _error_response("Any other error, in the same envelope."))
            # Errors a view documents by description only (404, 409…) still answer with the envelope.
            for code, response in responses.items():
                if code[0] in "45" and "content" not in response:
                    response.update(_error_response(response.get("description", "")))
    return result
