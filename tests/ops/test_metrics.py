"""/metrics: protection, the event counters the services update, and the state gauges read at scrape time."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from curation.services.ingest import IngestError, artwork_ingest
from tests.factories import review_task_create, sample_image

pytestmark = pytest.mark.django_db


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_need_the_token_when_one_is_configured(client, settings):
    settings.ATELIER = {**settings.ATELIER, "METRICS_TOKEN": "s3cret-scrape-token"}
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token").status_code == 200


def test_without_a_token_only_allowed_addresses_may_scrape(client, settings):
    settings.ATELIER = {**settings.ATELIER, "METRICS_TOKEN": ""}
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_ingest_outcomes_are_counted_by_reason():
    accepted = _value("atelier_ingest_total", result="accepted", reason="")
    duplicate = _value("atelier_ingest_total", result="duplicate", reason="")
    unsupported = _value("atelier_ingest_total", result="rejected", reason="unsupported_format")
    too_small = _value("atelier_ingest_total", result="rejected", reason="too_small")

    path, _ = sample_image(0)
    artwork_ingest(file=path.read_bytes(), request_classification=False)
    artwork_ingest(file=path.read_bytes(), request_classification=False)
    gif = io.BytesIO()
    Image.new("RGB", (300, 300), "red").save(gif, format="GIF")
    with pytest.raises(IngestError):
        artwork_ingest(file=gif.getvalue())
    tiny = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(tiny, format="PNG")
    with pytest.raises(IngestError):
        artwork_ingest(file=tiny.getvalue())

    assert _value("atelier_ingest_total", result="accepted", reason="") == accepted + 1
    assert _value("atelier_ingest_total", result="duplicate", reason="") == duplicate + 1
    assert _value("atelier_ingest_total", result="rejected", reason="unsupported_format") == unsupported + 1
    assert _value("atelier_ingest_total", result="rejected", reason="too_small") == too_small + 1


def test_classification_updates_inference_and_prediction_metrics(
    client, settings, active_version, django_capture_on_commit_callbacks
):
    active_version("ops-metrics", review_threshold=0.5)
    settings.ATELIER = {**settings.ATELIER, "REVIEW_THRESHOLD": 1.0}  # every prediction goes to review
    opened = _value("atelier_predictions_total", model_version="ops-metrics", outcome="review_opened")
    batches = _value("atelier_inference_batch_seconds_count", model_version="ops-metrics", device="cpu")
    images = _value("atelier_inference_image_latency_seconds_count", model_version="ops-metrics")

    paths = [sample_image(index)[0] for index in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        for path in paths:
            artwork_ingest(file=path.read_bytes())

    assert _value("atelier_predictions_total", model_version="ops-metrics", outcome="review_opened") == opened + 3
    assert _value("atelier_inference_image_latency_seconds_count", model_version="ops-metrics") == images + 3
    # Single uploads run as the grouping task: one engine call each here (tasks in-process).
    assert _value("atelier_inference_batch_seconds_count", model_version="ops-metrics", device="cpu") == batches + 3
    samples = _scrape(client)
    assert samples[("atelier_review_queue_depth", (("status", "open"),))] == 3
    assert samples[("atelier_review_queue_depth", (("status", "claimed"),))] == 0
    assert samples[("atelier_predictions_total", (("model_version", "ops-metrics"), ("outcome", "review_opened")))] == (
        opened + 3
    )


def test_review_queue_age_is_the_oldest_open_task(client):
    from datetime import timedelta

    from django.utils import timezone

    from curation.models import ReviewTask

    old = review_task_create(confidence=0.2)
    review_task_create(confidence=0.3)
    ReviewTask.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=2))
    samples = _scrape(client)
    assert samples[("atelier_review_queue_depth", (("status", "open"),))] == 2
    assert samples[("atelier_review_queue_oldest_age_seconds", (("status", "open"),))] == pytest.approx(7200, abs=5)


def test_celery_queue_lengths_come_from_the_broker(client, settings, redis_url):
    import redis

    connection = redis.Redis.from_url(redis_url)
    connection.delete("inference", "default")
    connection.rpush("inference", b"m1", b"m2")
    settings.CELERY_BROKER_URL = redis_url
    try:
        samples = _scrape(client)
    finally:
        connection.delete("inference")
    assert samples[("atelier_celery_queue_length", (("queue", "inference"),))] == 2
    assert samples[("atelier_celery_queue_length", (("queue", "default"),))] == 0
