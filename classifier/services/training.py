"""Starting training runs from the API: the row is written here, the work happens on a ``default``-queue worker."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from classifier.models import TrainingRun

logger = logging.getLogger(__name__)


def training_run_start(*, config: dict[str, Any], started_by: AbstractBaseUser | None) -> TrainingRun:
    """Record a queued TrainingRun with ``config`` (the options of ``manage.py train_models``) and hand it to a
    worker once the transaction commits (``mltrain.tasks.run_training``).

    If the broker cannot be reached then, the run is marked failed with the reason instead of waiting in
    ``queued`` for a worker that will never hear of it (and the caller's request still succeeds).
    """
    with transaction.atomic():
        run = TrainingRun.objects.create(config=config, started_by=started_by, status=TrainingRun.Status.QUEUED)
        transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(training_run_id: int) -> None:
    from mltrain.tasks import run_training

    try:
        run_training.delay(training_run_id)
    except BrokerUnavailable as error:
        logger.error("training run %s could not be queued: %s", training_run_id, error)
        TrainingRun.objects.filter(pk=training_run_id, status=TrainingRun.Status.QUEUED).update(
            status=TrainingRun.Status.FAILED,
            error=f"The task queue could not be reached, so no worker received this run ({error}). Start it again.",
            finished_at=timezone.now(),
        )
