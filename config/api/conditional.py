"""Conditional GETs for detail reads: an ``ETag`` of the representation and ``Last-Modified`` where known."""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

from django.utils.http import http_date, parse_etags, parse_http_date_safe
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response


def representation_etag(data: Any) -> str:
    """A strong ETag: the hash of the JSON the client would receive, so any visible change changes it."""
    encoded = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()
    return '"' + hashlib.sha256(encoded).hexdigest()[:32] + '"'


def conditional_response(
    request: Request, data: dict[str, Any], *, last_modified: datetime.datetime | None = None
) -> Response:
    """200 with ``data``, or 304 when the client's ``If-None-Match`` / ``If-Modified-Since`` still holds."""
    etag = representation_etag(data)
    headers = {"ETag": etag}
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified.timestamp())

    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        # RFC 9110: If-None-Match wins over If-Modified-Since when both are sent.
        if "*" in if_none_match or etag in parse_etags(if_none_match):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
    elif last_modified is not None:
        since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
        if since is not None and int(last_modified.timestamp()) <= since:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(data, headers=headers)
