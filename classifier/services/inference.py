"""Classifying stored artworks with the active model version: predict, store, route — idempotently."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from classifier.engine.core import ImageFailure, ImagePrediction
from classifier.engine.runtime import active_engine
from classifier.models import ModelVersion, Prediction
from classifier.selectors import artworks_awaiting_prediction, artworks_pending_since
from classifier.services.routing import prediction_route
from config.metrics import inference_observe, prediction_observe
from curation.models import Artwork, Style

logger = logging.getLogger(__name__)


@dataclass
class ClassificationReport:
    model_version: ModelVersion | None = None
    predicted: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def _opener(name: str):
    return lambda: default_storage.open(name, "rb")


def artworks_classify(*, artwork_ids: Sequence[int]) -> ClassificationReport:
    """Predict every listed artwork that has no prediction by the active version yet, store and route it.

    Idempotent: an artwork already predicted by the active version is skipped (and the unique constraint plus
    the row lock make a concurrent duplicate harmless). An unreadable image marks its artwork ``failed`` with
    the reason and does not stop the others. With no usable model version nothing changes: the artworks stay
    pending and the periodic sweep re-enqueues them later. Database errors propagate (the task retries them).
    """
    report = ClassificationReport()
    loaded = active_engine()
    if loaded is None:
        logger.warning("no usable active model version: %d artworks stay pending", len(artwork_ids))
        report.skipped = list(artwork_ids)
        return report
    report.model_version = loaded.version
    candidates = list(artworks_awaiting_prediction(artwork_ids=artwork_ids, model_version=loaded.version))
    candidate_ids = {artwork.pk for artwork in candidates}
    report.skipped = [artwork_id for artwork_id in artwork_ids if artwork_id not in candidate_ids]
    if not candidates:
        return report
    started = time.perf_counter()
    outcomes = loaded.engine.predict([_opener(artwork.original.name) for artwork in candidates])
    inference_observe(
        model_version=loaded.version.name,
        device=str(loaded.engine.device),
        seconds=time.perf_counter() - started,
        outcomes=outcomes,
    )
    predicted: list[tuple[int, ImagePrediction]] = []
    for artwork, outcome in zip(candidates, outcomes, strict=True):
        if isinstance(outcome, ImageFailure):
            if artwork_classification_fail(artwork_id=artwork.pk, reason=outcome.reason):
                report.failed.append(artwork.pk)
            else:
                report.skipped.append(artwork.pk)
        else:
            predicted.append((artwork.pk, outcome))
    stored = {prediction.artwork_id for prediction in predictions_record(model_version=loaded.version, items=predicted)}
    for artwork_id, _ in predicted:
        (report.predicted if artwork_id in stored else report.skipped).append(artwork_id)
    logger.info(
        "classified with %s: %d predicted, %d failed, %d skipped",
        loaded.version.name,
        len(report.predicted),
        len(report.failed),
        len(report.skipped),
    )
    return report


def prediction_record(
    *,
    artwork_id: int,
    model_version: ModelVersion,
    outcome: ImagePrediction,
) -> Prediction | None:
    """Store ``outcome`` as the artwork's prediction by ``model_version`` and route it, in one transaction.

    Returns None (and changes nothing) when the artwork is gone or already has a prediction by this version.
    """
    stored = predictions_record(model_version=model_version, items=[(artwork_id, outcome)])
    return stored[0] if stored else None


def predictions_record(
    *, model_version: ModelVersion, items: Sequence[tuple[int, ImagePrediction]]
) -> list[Prediction]:
    """Store and route a batch of predictions in one transaction (one commit, not one per artwork).

    The artwork rows are locked in id order (concurrent workers cannot deadlock), artworks that are gone or
    already have a prediction by this version are skipped, the rest get their prediction and are routed.
    """
    if not items:
        return []
    styles = {style.code: style for style in Style.objects.all()}
    artwork_ids = [artwork_id for artwork_id, _ in items]
    with transaction.atomic():
        artworks = {
            artwork.pk: artwork
            for artwork in Artwork.objects.select_for_update().filter(pk__in=artwork_ids).order_by("pk")
        }
        already = set(
            Prediction.objects.filter(artwork_id__in=artwork_ids, model_version=model_version).values_list(
                "artwork_id", flat=True
            )
        )
        gone = sorted(set(artwork_ids) - set(artworks))
        if gone:
            logger.info("artworks %s disappeared before their predictions were stored", gone)
        predictions = Prediction.objects.bulk_create(
            [
                Prediction(
                    artwork=artworks[artwork_id],
                    model_version=model_version,
                    predicted_style=styles[outcome.predicted_class],
                    top3=[{"style": code, "prob": prob} for code, prob in outcome.top3],
                    confidence=outcome.confidence,
                    entropy=outcome.entropy,
                    probabilities=outcome.probabilities,
                    latency_ms=outcome.latency_ms,
                    batch_size=outcome.batch_size,
                )
                for artwork_id, outcome in dict(items).items()
                if artwork_id in artworks and artwork_id not in already
            ]
        )
        routes = [prediction_route(prediction=prediction, artwork=prediction.artwork) for prediction in predictions]
    for prediction, routing in zip(predictions, routes, strict=True):
        prediction_observe(model_version=model_version.name, route=routing.route, confidence=prediction.confidence)
    return predictions


def artwork_classification_fail(*, artwork_id: int, reason: str) -> bool:
    """Mark a pending artwork ``failed`` with ``reason`` (terminal: its file cannot be decoded).

    Artworks past pending (classified, in review, reviewed) keep their state: a human or an earlier prediction
    already stands, and the problem is logged. Returns whether the artwork was marked.
    """
    with transaction.atomic():
        artwork = Artwork.objects.select_for_update().filter(pk=artwork_id).first()
        if artwork is None or artwork.status != Artwork.Status.PENDING:
            logger.warning("artwork %s could not be decoded (%s); status kept", artwork_id, reason)
            return False
        artwork.status = Artwork.Status.FAILED
        artwork.failure_reason = reason
        artwork.save(update_fields=["status", "failure_reason", "updated_at"])
    logger.warning("artwork %s failed: %s", artwork_id, reason)
    return True


def pending_artworks_requeue(*, older_than: timedelta | None = None) -> list[int]:
    """Re-enqueue artworks left pending longer than ``older_than`` (a lost message, a worker that died).

    Each re-enqueued artwork is touched, so the next sweep waits another ``older_than`` before sending it again
    instead of flooding the queue with the same ids every interval. Without an active version nothing is sent:
    there is nothing to predict with, and the artworks stay pending for the sweep after an activation.
    """
    from classifier.services.dispatch import classification_request
    from classifier.services.registry import active_model_version

    if active_model_version() is None:
        return []
    age = older_than if older_than is not None else timedelta(seconds=settings.ATELIER["PENDING_SWEEP_AGE_SECONDS"])
    with transaction.atomic():
        artwork_ids = list(
            artworks_pending_since(before=timezone.now() - age)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        Artwork.objects.filter(pk__in=artwork_ids).update(updated_at=timezone.now())
        classification_request(artwork_ids=artwork_ids)
    if artwork_ids:
        logger.info("re-enqueued %d artworks left pending", len(artwork_ids))
    return artwork_ids


def artworks_reclassify(*, artworks: Sequence[Artwork] | None = None, artwork_ids: Sequence[int] = ()) -> list[int]:
    """Queue the selected artworks for the active version; failed ones go back to pending to be tried again."""
    from classifier.services.dispatch import classification_request

    ids = [artwork.pk for artwork in artworks] if artworks is not None else list(artwork_ids)
    with transaction.atomic():
        Artwork.objects.filter(pk__in=ids, status=Artwork.Status.FAILED).update(
            status=Artwork.Status.PENDING, updated_at=timezone.now()
        )
        classification_request(artwork_ids=ids)
    return ids
