"""Celery tasks of the classifier: thin, they take ids, call services and decide retry vs. terminal failure.

Queues: ``inference`` (the model worker) and ``default`` (everything else, e.g. the pending sweep).
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery_batches import Batches
from django.conf import settings
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from classifier.services.inference import artworks_classify, pending_artworks_requeue

logger = logging.getLogger(__name__)

# Database or broker connectivity: worth retrying. Everything else (bad data, bugs) is not.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerOperationalError, RedisConnectionError, ConnectionError)


@shared_task(
    bind=True,
    name="classifier.classify_artworks",
    queue="inference",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
)
def classify_artworks(self, artwork_ids: list[int]) -> dict[str, int]:
    """Classify a chunk of artworks (bulk import, sweep, reclassification, or a retried group)."""
    report = artworks_classify(artwork_ids=artwork_ids)
    return {"predicted": len(report.predicted), "failed": len(report.failed), "skipped": len(report.skipped)}


@shared_task(
    base=Batches,
    name="classifier.classify_artwork",
    queue="inference",
    flush_every=settings.ATELIER["INFERENCE_BATCH_SIZE"],
    flush_interval=settings.ATELIER["INFERENCE_BATCH_WAIT_SECONDS"],
)
def classify_artwork(requests) -> None:
    """Group concurrent single uploads: celery-batches buffers messages until the batch is full or the short
    flush interval passes, then this runs once for all of them.

    celery-batches logs and swallows exceptions (the messages are acknowledged either way), so a transient error
    hands the whole group to ``classify_artworks``, which retries with backoff.
    """
    artwork_ids = [request.args[0] if request.args else request.kwargs["artwork_id"] for request in requests]
    try:
        artworks_classify(artwork_ids=artwork_ids)
    except TRANSIENT_ERRORS as exc:
        logger.warning("transient error classifying %s (%s): handing over to the retrying task", artwork_ids, exc)
        classify_artworks.apply_async((artwork_ids,), countdown=2)


@shared_task(name="classifier.sweep_pending", queue="default")
def sweep_pending() -> int:
    """Periodic: re-enqueue artworks left pending longer than ``ATELIER["PENDING_SWEEP_AGE_SECONDS"]``."""
    return len(pending_artworks_requeue())
