"""The drift signal: are recent predictions as confident as the model was on its own held-out data?

A model that sees images unlike its training data (a new collection, scanner, photography style) becomes less
confident long before anyone has labels to measure its accuracy. The signal compares the mean calibrated
confidence of the active version's last N predictions with the same figure measured when the version was
evaluated (``metrics["val_mean_confidence"]``, or, for versions registered without it, the count-weighted mean
of the calibrated reliability bins of the evaluation report).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Avg

from classifier.models import ModelVersion, Prediction


def reference_mean_confidence(metrics: dict[str, Any]) -> float | None:
    """The version's mean calibrated confidence on held-out data, from its stored evaluation metrics."""
    for key in ("val_mean_confidence", "mean_confidence"):
        value = metrics.get(key)
        if isinstance(value, (int, float)):
            return float(value)
    bins = (metrics.get("reliability") or {}).get("after") or []
    weighted = [
        (item["count"], item["confidence"]) for item in bins if item.get("count") and item.get("confidence") is not None
    ]
    total = sum(count for count, _ in weighted)
    if not total:
        return None
    return sum(count * confidence for count, confidence in weighted) / total


def drift_signal(*, window: int | None = None) -> dict[str, Any]:
    """Mean calibrated confidence of the active version's last ``window`` predictions vs its reference figure.

    Returns ``{"model_version", "window", "predictions", "recent_mean_confidence",
    "validation_mean_confidence", "delta", "tolerance", "status"}`` where status is ``no_model``,
    ``insufficient_data`` (fewer than ``window // 5`` predictions, or no reference figure), ``ok`` or
    ``drift`` (recent mean below the reference by more than the tolerance).
    """
    window = window or settings.ATELIER["DRIFT_WINDOW"]
    tolerance = settings.ATELIER["DRIFT_TOLERANCE"]
    version = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    signal: dict[str, Any] = {
        "model_version": version.name if version else None,
        "window": window,
        "predictions": 0,
        "recent_mean_confidence": None,
        "validation_mean_confidence": None,
        "delta": None,
        "tolerance": tolerance,
        "status": "no_model",
    }
    if version is None:
        return signal
    recent_ids = Prediction.objects.filter(model_version=version).order_by("-created_at", "-id").values("id")[:window]
    aggregate = Prediction.objects.filter(id__in=recent_ids).aggregate(mean=Avg("confidence"))
    signal["predictions"] = Prediction.objects.filter(id__in=recent_ids).count()
    signal["recent_mean_confidence"] = aggregate["mean"]
    signal["validation_mean_confidence"] = reference_mean_confidence(version.metrics or {})
    if signal["predictions"] < max(1, window // 5) or signal["validation_mean_confidence"] is None:
        signal["status"] = "insufficient_data"
        return signal
    signal["delta"] = signal["recent_mean_confidence"] - signal["validation_mean_confidence"]
    signal["status"] = "drift" if signal["delta"] < -tolerance else "ok"
    return signal
