"""Celery task that executes a TrainingRun on the ``default`` queue. Thin: the work is ``run_training_job``."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)

# A training run takes minutes on a CPU and hours on a GPU: no per-task time limit, and the message is
# acknowledged on receipt (not late), because the broker would otherwise redeliver a still-running job after its
# visibility timeout and train the same run twice. A worker lost mid-run leaves the run "running" with its log.
TRAINING_TIME_LIMIT_SECONDS = 48 * 60 * 60


@shared_task(
    name="mltrain.run_training",
    queue="default",
    acks_late=False,
    time_limit=TRAINING_TIME_LIMIT_SECONDS,
    soft_time_limit=TRAINING_TIME_LIMIT_SECONDS - 60,
)
def run_training(training_run_id: int) -> None:
    from mltrain.db import run_training_job

    logger.info("training run %s starting", training_run_id)
    run_training_job(training_run_id)
