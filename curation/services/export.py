"""Streamed exports of the collection's labels (CSV and JSON), filtered like the gallery.

The generators read rows with ``.values(...).iterator(chunk_size=…)`` (a server-side cursor on PostgreSQL) and
yield text piece by piece, so 100,000 rows never sit in memory; wrap them in a StreamingHttpResponse.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from curation.models import Artwork

EXPORT_CHUNK_SIZE = 2000
EXPORT_COLUMNS = (
    "id",
    "title",
    "artist",
    "year",
    "sha256",
    "original_filename",
    "status",
    "predicted_style",
    "confidence",
    "model_version",
    "verified_style",
    "label_source",
    "label",
    "label_provenance",
    "created_at",
)
# Spreadsheets execute a cell that starts with one of these; a title like "=HYPERLINK(…)" must stay text.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _label(row: dict[str, Any]) -> tuple[str, str]:
    """The label a training run or a catalogue would use, and where it came from (reviewer, dataset, model)."""
    if row["label_source"] != Artwork.LabelSource.NONE and row["verified_style__code"]:
        return row["verified_style__code"], row["label_source"]
    if row["status"] == Artwork.Status.CLASSIFIED and row["predicted_style__code"]:
        # Confident enough to be accepted automatically: the model's style is the label.
        return row["predicted_style__code"], "model"
    return "", "none"


def artwork_export_rows(*, artworks: QuerySet[Artwork]) -> Iterator[dict[str, Any]]:
    """One plain dict per artwork with EXPORT_COLUMNS, streamed from the database in chunks."""
    rows = artworks.values(
        "id",
        "title",
        "artist",
        "year",
        "sha256",
        "original_filename",
        "status",
        "predicted_style__code",
        "confidence",
        "latest_prediction__model_version__name",
        "verified_style__code",
        "label_source",
        "created_at",
    ).iterator(chunk_size=EXPORT_CHUNK_SIZE)
    for row in rows:
        label, provenance = _label(row)
        yield {
            "id": row["id"],
            "title": row["title"],
            "artist": row["artist"],
            "year": row["year"],
            "sha256": row["sha256"],
            "original_filename": row["original_filename"],
            "status": row["status"],
            "predicted_style": row["predicted_style__code"] or "",
            "confidence": row["confidence"],
            "model_version": row["latest_prediction__model_version__name"] or "",
            "verified_style": row["verified_style__code"] or "",
            "label_source": row["label_source"],
            "label": label,
            "label_provenance": provenance,
            "created_at": row["created_at"],
        }


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def artwork_export_csv(*, artworks: QuerySet[Artwork]) -> Iterator[str]:
    """CSV text (header first), one chunk of lines at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    yield buffer.getvalue()
    for batch in _batched(artwork_export_rows(artworks=artworks), 500):
        buffer.seek(0)
        buffer.truncate()
        for row in batch:
            writer.writerow([_csv_cell(row[column]) for column in EXPORT_COLUMNS])
        yield buffer.getvalue()


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def artwork_export_json(*, artworks: QuerySet[Artwork]) -> Iterator[str]:
    """A JSON array of objects, streamed: the brackets and separators are written around each chunk."""
    yield "["
    first = True
    for batch in _batched(artwork_export_rows(artworks=artworks), 500):
        pieces = []
        for row in batch:
            encoded = json.dumps({key: _json_value(value) for key, value in row.items()}, ensure_ascii=False)
            pieces.append(encoded if first else "," + encoded)
            first = False
        yield "\n".join(pieces)
    yield "]\n"


def _batched(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
