"""/healthz and /readyz on the embedded (in-process tasks) configuration."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_readyz_is_unavailable_without_an_active_model(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["model"] == {
        "ok": False,
        "active": None,
        "error": "no active model version",
        "ms": body["checks"]["model"]["ms"],
    }


def test_readyz_is_ready_with_an_active_model_in_process(client, active_version):
    active_version("ops-ready")
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["model"]["active"] == "ops-ready"
    assert body["checks"]["inference_workers"]["detail"] == "tasks run in-process (no broker)"


@override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL="redis://127.0.0.1:1/0", REDIS_URL="")
def test_readyz_reports_an_unreachable_redis_as_unavailable(client, active_version):
    active_version("ops-noredis")
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["redis"]["ok"] is False
    assert checks["redis"]["error"].startswith("ConnectionError")
    assert checks["inference_workers"]["ok"] is False
    assert checks["model"]["ok"] is False
    assert checks["model"]["error"] == "no live inference worker has the active version loaded"


def test_readyz_only_answers_get(client):
    assert client.post("/readyz").status_code == 405
