"""Example bodies for the OpenAPI documentation (checked against the schema by tests/api/test_schema_docs.py)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample


def _links(artwork_id: int) -> dict[str, str]:
    return {
        "self": f"/api/v1/artworks/{artwork_id}/",
        "image": f"/api/v1/artworks/{artwork_id}/image/",
        "thumbnail": f"/api/v1/artworks/{artwork_id}/thumbnail/",
        "predictions": f"/api/v1/artworks/{artwork_id}/predictions/",
    }


TOP3 = [
    {"style": "Post_Impressionism", "prob": 0.41},
    {"style": "Expressionism", "prob": 0.27},
    {"style": "Fauvism", "prob": 0.12},
]

ARTWORK = {
    "id": 42,
    "title": "The Starry Night",
    "artist": "Vincent van Gogh",
    "year": 1889,
    "source": "MoMA",
    "status": "needs_review",
    "predicted_style": "Post_Impressionism",
    "confidence": 0.41,
    "verified_style": None,
    "label_source": "none",
    "format": "JPEG",
    "width": 1280,
    "height": 1014,
    "created_at": "2026-12-04T20:15:00Z",
    "updated_at": "2026-12-04T20:15:02Z",
    "links": _links(42),
}

ARTWORK_DETAIL = {
    **ARTWORK,
    "sha256": "5f1c0b2e8e8a5bd1c7d0b1f7e9d4c1a3b2f6e0d9c8b7a6f5e4d3c2b1a0f9e8d7",
    "file_size": 483211,
    "original_filename": "starry-night.jpg",
    "uploaded_by": "alice",
    "failure_reason": "",
    "latest_prediction": {
        "id": 77,
        "model_version": {"id": 3, "name": "efficientnet_lite0-20261204"},
        "predicted_style": "Post_Impressionism",
        "confidence": 0.41,
        "top3": TOP3,
        "created_at": "2026-12-04T20:15:02Z",
    },
    "review": {"task_id": 7, "status": "open", "decision": "", "final_style": None, "resolved_at": None},
}

REVIEW_TASK = {
    "id": 7,
    "artwork": {
        "id": 42,
        "title": "The Starry Night",
        "artist": "Vincent van Gogh",
        "year": 1889,
        "status": "needs_review",
        "width": 1280,
        "height": 1014,
        "links": _links(42),
    },
    "status": "claimed",
    "priority": 0.41,
    "predicted_style": "Post_Impressionism",
    "confidence": 0.41,
    "top3": TOP3,
    "claimed_by": "rita",
    "lease_expires_at": "2026-12-04T20:31:00Z",
    "decision": "",
    "final_style": None,
    "resolved_by": None,
    "resolved_at": None,
    "created_at": "2026-12-04T20:15:02Z",
    "updated_at": "2026-12-04T20:21:00Z",
}

REVIEW_TASK_RESOLVED = {
    **REVIEW_TASK,
    "artwork": {**REVIEW_TASK["artwork"], "status": "reviewed"},
    "status": "resolved",
    "claimed_by": None,
    "lease_expires_at": None,
    "decision": "corrected",
    "final_style": "Expressionism",
    "resolved_by": "rita",
    "resolved_at": "2026-12-04T20:22:10Z",
    "updated_at": "2026-12-04T20:22:10Z",
}

STATS = {
    "generated_at": "2026-12-04T21:00:00Z",
    "total_artworks": 654,
    "status_counts": {"pending": 2, "classified": 501, "needs_review": 120, "reviewed": 30, "failed": 1},
    "queue": {"depth": 120, "claimed": 2, "oldest": "2026-12-04T18:02:11Z", "oldest_age_seconds": 10669.0},
    "predictions_last_24h": 652,
    "predictions_last_hour": 12,
    "predictions_per_hour": [{"hour": "2026-12-04T20:00:00Z", "count": 12}],
    "latency_ms": {"p50": 31.2, "p95": 58.0, "p99": 91.5},
    "confidence_histogram": [{"low": 0.0, "high": 0.1, "count": 3}, {"low": 0.1, "high": 0.2, "count": 40}],
    "style_counts": [
        {"code": "Abstract_Expressionism", "name": "Abstract Expressionism", "predicted": 25, "verified": 24}
    ],
    "active_model": {
        "id": 3,
        "name": "efficientnet_lite0-20261204",
        "architecture": "efficientnet_lite0",
        "activated_at": "2026-12-04T19:40:00Z",
        "review_threshold": 0.62,
        "temperature": 1.31,
        "accuracy": 0.58,
        "macro_f1": 0.51,
        "macro_f1_ci95": [0.45, 0.57],
        "ece": 0.04,
    },
    "model_problems": [],
}


def response(name: str, value, *, status_codes: tuple[str, ...] = ("200",)) -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=list(status_codes))
