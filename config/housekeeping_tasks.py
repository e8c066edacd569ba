"""The periodic housekeeping task (scheduled by ``CELERY_BEAT_SCHEDULE["housekeeping"]``)."""

from __future__ import annotations

from celery import shared_task

from config.metrics import HOUSEKEEPING_REMOVED
from curation.services.housekeeping import media_housekeeping_run


@shared_task(name="atelier.housekeeping", queue="default")
def housekeeping() -> dict:
    """Remove orphan media and stale uploads; the returned report is also logged by the service."""
    report = media_housekeeping_run()
    HOUSEKEEPING_REMOVED.labels(kind="orphan_media").inc(len(report.orphan_media))
    HOUSEKEEPING_REMOVED.labels(kind="stale_upload").inc(len(report.stale_uploads))
    return report.as_dict()
