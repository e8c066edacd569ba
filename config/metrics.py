"""Prometheus metrics: the metric objects, the scrape-time collector, and the protected ``/metrics`` view.

Counters and histograms are updated where things happen (ingest, engine, routing, model loading). With
``PROMETHEUS_MULTIPROC_DIR`` set (production: gunicorn workers and Celery workers on one host or sharing that
directory) prometheus-client's multiprocess mode writes them to files that ``/metrics`` aggregates, so the
worker processes' inference metrics appear on the web's endpoint. The directory must be emptied when the
service starts (the compose file and ``gunicorn.conf.py`` do). Without it, each process serves its own.

Gauges that describe state rather than events (review queue depth and age, Celery queue lengths, the drift
signal) are computed at scrape time by ``StateCollector`` from the database and Redis, so they are right no
matter which process serves the scrape.

``/metrics`` answers only with ``Authorization: Bearer <ATELIER_METRICS_TOKEN>`` when a token is configured,
otherwise only to the addresses in ``ATELIER_METRICS_ALLOWED_IPS`` (loopback by default).
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
from collections import Counter as Counter_
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# --- Events (updated in the code that does the work) ----------------------------------------------------------
INFERENCE_BATCH_SECONDS = Histogram(
    "atelier_inference_batch_seconds",
    "Wall time of one engine call (decode + forward) for a batch of artworks.",
    ["model_version", "device"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
INFERENCE_IMAGE_LATENCY_SECONDS = Histogram(
    "atelier_inference_image_latency_seconds",
    "Per-image latency from decode start to probabilities.",
    ["model_version"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
INFERENCE_BATCH_SIZE = Histogram(
    "atelier_inference_batch_size",
    "Images per forward pass.",
    ["model_version"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
PREDICTIONS = Counter(
    "atelier_predictions",
    "Predictions stored, by model version and routing outcome (auto_accepted, needs_review).",
    ["model_version", "outcome"],
)
PREDICTION_CONFIDENCE = Histogram(
    "atelier_prediction_confidence",
    "Calibrated top-1 confidence of stored predictions.",
    ["model_version"],
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0),
)
INFERENCE_FAILURES = Counter(
    "atelier_inference_failures",
    "Artworks marked failed by the classifier (unreadable image), by reason kind.",
    ["reason"],
)
INGEST = Counter(
    "atelier_ingest",
    "Files offered to the ingest service: result accepted, duplicate or rejected; reason is the IngestError code.",
    ["result", "reason"],
)
MODEL_LOAD_FAILURES = Counter(
    "atelier_model_load_failures",
    "Model versions that could not be loaded (checkpoint missing or sha256 mismatch) and were refused.",
    ["model_version"],
)
HOUSEKEEPING_REMOVED = Counter(
    "atelier_housekeeping_removed_files",
    "Files removed by housekeeping, by kind (orphan_media, stale_upload).",
    ["kind"],
)


def count_ingest(service: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate the ingest service: count accepted / duplicate / rejected-by-reason outcomes."""

    @functools.wraps(service)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from curation.services.ingest import IngestError

        try:
            result = service(*args, **kwargs)
        except IngestError as exc:
            INGEST.labels(result="rejected", reason=exc.code).inc()
            raise
        INGEST.labels(result="accepted" if result.created else "duplicate", reason="").inc()
        return result

    return wrapper


def inference_observe(*, model_version: str, device: str, seconds: float, outcomes: Sequence[Any]) -> None:
    """Record one engine call: its wall time, every image's latency, the forward-pass sizes and decode failures.

    The engine tags each image with the size of the forward pass it was in, so ``n`` images tagged with size
    ``b`` came from ``n / b`` passes of ``b`` images.
    """
    INFERENCE_BATCH_SECONDS.labels(model_version=model_version, device=device).observe(seconds)
    sizes: Counter_[int] = Counter_()
    for outcome in outcomes:
        batch_size = getattr(outcome, "batch_size", None)
        if batch_size is None:
            INFERENCE_FAILURES.labels(reason="undecodable").inc()
            continue
        sizes[batch_size] += 1
        INFERENCE_IMAGE_LATENCY_SECONDS.labels(model_version=model_version).observe(outcome.latency_ms / 1000)
    for batch_size, images in sizes.items():
        for _ in range(max(1, images // max(1, batch_size))):
            INFERENCE_BATCH_SIZE.labels(model_version=model_version).observe(batch_size)


def prediction_observe(*, model_version: str, route: Any, confidence: float) -> None:
    """Record one stored prediction with its routing outcome (``Route`` value: auto_accepted, review_opened…)."""
    PREDICTIONS.labels(model_version=model_version, outcome=str(getattr(route, "value", route))).inc()
    PREDICTION_CONFIDENCE.labels(model_version=model_version).observe(confidence)


# --- State (computed at scrape time) ----------------------------------------------------------------------------
CELERY_QUEUES = ("inference", "default")


class StateCollector(Collector):
    """Review queue depth and age, Celery queue lengths and the drift signal, read when scraped.

    Each part fails on its own: a Redis outage must not hide the database figures, and vice versa.
    """

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._review_queue()
        yield from self._celery_queues()
        yield from self._drift()

    def _review_queue(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count, Min
        from django.utils import timezone

        from curation.models import ReviewTask

        try:
            rows = ReviewTask.objects.filter(status__in=["open", "claimed"]).values("status")
            by_status = {row["status"]: row for row in rows.annotate(n=Count("id"), oldest=Min("created_at"))}
        except Exception as exc:  # see the class docstring
            logger.warning("metrics: review queue unavailable: %s", exc)
            return
        depth = GaugeMetricFamily("atelier_review_queue_depth", "Review tasks waiting, by status.", labels=["status"])
        age = GaugeMetricFamily(
            "atelier_review_queue_oldest_age_seconds", "Age of the oldest waiting review task.", labels=["status"]
        )
        now = timezone.now()
        for status in ("open", "claimed"):
            row = by_status.get(status)
            depth.add_metric([status], row["n"] if row else 0)
            age.add_metric([status], (now - row["oldest"]).total_seconds() if row else 0)
        yield depth
        yield age

    def _celery_queues(self) -> Iterator[GaugeMetricFamily]:
        broker = settings.CELERY_BROKER_URL
        if not broker.startswith("redis"):
            return
        import redis

        try:
            client = redis.Redis.from_url(broker, socket_connect_timeout=1, socket_timeout=1)
            lengths = {queue: client.llen(queue) for queue in CELERY_QUEUES}
            # celery-batches and acks_late keep delivered-but-unacknowledged messages here.
            unacked = client.hlen("unacked")
        except redis.RedisError as exc:
            logger.warning("metrics: broker unavailable: %s", exc)
            return
        family = GaugeMetricFamily(
            "atelier_celery_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
        )
        for queue, length in lengths.items():
            family.add_metric([queue], length)
        yield family
        yield GaugeMetricFamily(
            "atelier_celery_unacked_messages", "Messages delivered to a worker and not yet acknowledged.", value=unacked
        )

    def _drift(self) -> Iterator[GaugeMetricFamily]:
        from classifier.drift import drift_signal

        try:
            signal = drift_signal()
        except Exception as exc:  # see the class docstring
            logger.warning("metrics: drift signal unavailable: %s", exc)
            return
        if signal["recent_mean_confidence"] is not None:
            yield GaugeMetricFamily(
                "atelier_recent_mean_confidence",
                "Mean calibrated confidence of the active version's last N predictions.",
                value=signal["recent_mean_confidence"],
            )
        if signal["validation_mean_confidence"] is not None:
            yield GaugeMetricFamily(
                "atelier_validation_mean_confidence",
                "The active version's mean calibrated confidence on its validation split.",
                value=signal["validation_mean_confidence"],
            )


def metrics_exposition() -> bytes:
    """One scrape: every process's event metrics (or this process's) followed by the state gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        events = CollectorRegistry()
        MultiProcessCollector(events)
    else:
        events = REGISTRY
    state = CollectorRegistry()
    state.register(StateCollector())
    return generate_latest(events) + generate_latest(state)


def _authorised(request: HttpRequest) -> bool:
    token = settings.ATELIER["METRICS_TOKEN"]
    if token:
        supplied = request.META.get("HTTP_AUTHORIZATION", "")
        return hmac.compare_digest(supplied.encode(), f"Bearer {token}".encode())
    return request.META.get("REMOTE_ADDR", "") in settings.ATELIER["METRICS_ALLOWED_IPS"]


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition. 403 unless the bearer token (or, without one, the client address) is allowed."""
    if not _authorised(request):
        return HttpResponse(
            "Forbidden: metrics need the configured bearer token.\n", status=403, content_type="text/plain"
        )
    return HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE_LATEST)


def _on_worker_ready(**_: Any) -> None:
    port = settings.ATELIER.get("WORKER_METRICS_PORT")
    if not port:
        return
    from prometheus_client import start_http_server

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    start_http_server(int(port), addr=settings.ATELIER["WORKER_METRICS_ADDR"], registry=registry)
    logger.info("worker metrics exporter on %s:%s", settings.ATELIER["WORKER_METRICS_ADDR"], port)


def connect_celery_signals() -> None:
    """A worker-side exporter for deployments where workers and web do not share a host (docker compose): with
    ``ATELIER_WORKER_METRICS_PORT`` set, each worker serves its own inference metrics on that port."""
    from celery import signals

    signals.worker_ready.connect(_on_worker_ready, weak=False, dispatch_uid="atelier_worker_metrics")


def worker_metrics_dir_clear() -> None:
    """Empty ``PROMETHEUS_MULTIPROC_DIR`` (call once when the service starts, before any process writes)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory or not os.path.isdir(directory):
        return
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))
