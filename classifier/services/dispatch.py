"""Queueing artworks for inference. Always after the surrounding transaction commits."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction


def classification_request(*, artwork_ids: Sequence[int], chunk_size: int | None = None) -> None:
    """Queue these artworks for classification once the current transaction commits.

    A single artwork (an upload) goes to the grouping task, which gathers concurrent uploads into one batch
    after a short bounded wait; several (bulk imports, sweeps, reclassification) are sent in chunks of
    ``chunk_size`` (default ``ATELIER["INFERENCE_CHUNK_SIZE"]``), one task per chunk.
    """
    from classifier.tasks import classify_artwork, classify_artworks

    ids = list(dict.fromkeys(artwork_ids))
    if not ids:
        return
    if len(ids) == 1:
        transaction.on_commit(lambda: classify_artwork.delay(ids[0]), robust=_broker_outage_tolerant())
        return
    size = chunk_size or settings.ATELIER["INFERENCE_CHUNK_SIZE"]
    chunks = [ids[start : start + size] for start in range(0, len(ids), size)]

    def send() -> None:
        for chunk in chunks:
            classify_artworks.delay(chunk)

    transaction.on_commit(send, robust=_broker_outage_tolerant())


def _broker_outage_tolerant() -> bool:
    # With a broker, a failed publish (Redis restarting) is logged instead of raised: the artwork is committed
    # and pending, the request must not answer 500 for it, and the periodic sweep queues it again. In-process
    # (eager) mode keeps raising so that errors surface in tests and on a laptop.
    return not settings.CELERY_TASK_ALWAYS_EAGER
