"""Queueing artworks for inference. Always after the surrounding transaction commits."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction


def classification_request(*, artwork_ids: Sequence[int]) -> None:
    """Queue these artworks for classification once the current transaction commits."""
    from classifier.tasks import classify_artworks

    ids = list(artwork_ids)
    if ids:
        transaction.on_commit(lambda: classify_artworks.delay(ids))
