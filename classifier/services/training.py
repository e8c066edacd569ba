"""Starting training runs from the API: the row is written here, the work happens on a ``default``-queue worker."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from classifier.models import TrainingRun


def training_run_start(*, config: dict[str, Any], started_by: AbstractBaseUser | None) -> TrainingRun:
    """Record a queued TrainingRun with ``config`` (the options of ``manage.py train_models``) and hand it to a
    worker once the transaction commits (``mltrain.tasks.run_training``)."""
    from mltrain.tasks import run_training

    with transaction.atomic():
        run = TrainingRun.objects.create(config=config, started_by=started_by, status=TrainingRun.Status.QUEUED)
        transaction.on_commit(lambda: run_training.delay(run.pk))
    return run
