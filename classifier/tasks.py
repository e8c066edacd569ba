"""Celery tasks of the classifier: thin, they take ids and call services."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="classifier.classify_artworks", queue="inference")
def classify_artworks(artwork_ids: list[int]) -> None:
    # The inference engine lands with the classifier issue; until then artworks stay pending and the
    # pending sweep picks them up once a model is active.
    logger.info("classification requested for %d artworks; no inference engine yet", len(artwork_ids))
