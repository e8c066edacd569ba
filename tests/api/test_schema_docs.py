"""The OpenAPI document: every operation documented with examples, every example valid against its schema,
the interactive docs served with local assets."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest

# Downloads answer bytes, revoking a token answers nothing: an example body says nothing there.
BINARY_OPERATIONS = {
    ("get", "/api/v1/artworks/{id}/image/"),
    ("get", "/api/v1/artworks/{id}/thumbnail/"),
    ("post", "/api/v1/auth/token/revoke/"),
}


@pytest.fixture
def openapi(db, client) -> dict[str, Any]:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _operations(openapi):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method, path, operation


def _json_schema(schema: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` → JSON Schema's ``null`` type; ``$ref``s point into the document's components."""
    if isinstance(schema, list):
        return [_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _json_schema(value) for key, value in schema.items() if key != "nullable"}
    if "$ref" in converted:
        converted["$ref"] = converted["$ref"].replace("#/components/schemas/", "#/$defs/")
    if schema.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def _validator(openapi, schema):
    document = {**_json_schema(schema), "$defs": _json_schema(openapi["components"]["schemas"])}
    return jsonschema_rs.Draft202012Validator(document)


def test_every_operation_has_a_summary_and_success_examples(openapi):
    missing = []
    for method, path, operation in _operations(openapi):
        if (method, path) in BINARY_OPERATIONS:
            continue
        success = {code: response for code, response in operation["responses"].items() if code.startswith("2")}
        has_examples = any(
            media.get("examples") for response in success.values() for media in response.get("content", {}).values()
        )
        if not has_examples or not operation.get("summary"):
            missing.append(f"{method.upper()} {path}")
    assert missing == []


def test_every_operation_documents_the_error_envelope(openapi):
    for _method, _path, operation in _operations(openapi):
        for code in ("401", "403", "429", "default"):
            schema = operation["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}
        for code, response in operation["responses"].items():
            if code[0] in "45":
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_examples_match_their_schemas(openapi):
    with_valid_success_example = set()
    errors = []
    for method, path, operation in _operations(openapi):
        bodies = [("request", operation.get("requestBody", {})), *operation["responses"].items()]
        for where, body in bodies:
            for media_type, media in body.get("content", {}).items():
                if media_type != "application/json":
                    continue  # multipart examples describe files as placeholders
                validator = _validator(openapi, media["schema"])
                for name, example in media.get("examples", {}).items():
                    problems = [error.message for error in validator.iter_errors(example["value"])]
                    errors.extend(f"{method.upper()} {path} {where} {name}: {problem}" for problem in problems)
                    if where.startswith("2") and not problems:
                        with_valid_success_example.add((method, path))
    assert errors == []
    documented = {(method, path) for method, path, _ in _operations(openapi)} - BINARY_OPERATIONS
    assert with_valid_success_example == documented


def test_interactive_docs_use_local_assets_and_no_inline_script(db, client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js">',
        '<script src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js">',
        '<script src="/api/docs/?script=">',
    ]
    # Pages forbid inline scripts; the docs' start-up script is served as a file and points at the schema.
    assert "script-src 'self'" in response["Content-Security-Policy"]
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"] == "application/javascript"
    assert '"/api/schema/"' in script.content.decode()
