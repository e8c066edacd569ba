"""Celery application. Configuration is read from Django settings (``CELERY_*``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("atelier")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Operations plumbing: task/request ids in the JSON logs, and the worker heartbeat behind /readyz.
from config import health as _health  # noqa: E402
from config import logging as _logging  # noqa: E402
from config import metrics as _metrics  # noqa: E402

_logging.connect_celery_signals()
_health.connect_celery_signals()
_metrics.connect_celery_signals()
