"""/readyz against a real Celery inference worker on PostgreSQL + Redis: ready once the worker has loaded the
active model, unavailable within 30 s of the worker being killed with SIGKILL, ready again after a restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from classifier.models import Prediction
from config.celery_app import app as celery_app
from curation.models import Artwork
from curation.services.ingest import artwork_ingest
from tests.factories import sample_image

# The worker needs committed data: a transactional database (tests/conftest.py restores the reference data).
pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

REPO = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    from django.db import connection

    params = connection.settings_dict
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return (
        f"postgres://{params['USER']}{password}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
        f"/{params['NAME']}"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_worker(broker_url: str, media_root: str, log_path: Path, metrics_port: int) -> subprocess.Popen:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ATELIER_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": "",
        "MEDIA_ROOT": media_root,
        "ATELIER_HEARTBEAT_INTERVAL_SECONDS": "1",
        "ATELIER_HEARTBEAT_TTL_SECONDS": "3",
        "ATELIER_WORKER_METRICS_PORT": str(metrics_port),
        "ATELIER_WORKER_METRICS_ADDR": "127.0.0.1",
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "inference",
        "--pool", "solo", "--concurrency", "1", "--hostname", "ops-readyz@%h", "--loglevel", "INFO",
    ]  # fmt: skip
    log = open(log_path, "ab")  # noqa: SIM115 — the worker writes to it until it dies
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _heartbeat_check(broker_url: str) -> int:
    """The docker compose healthcheck of the workers, run as compose runs it."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ATELIER_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "true",
        "CELERY_BROKER_URL": broker_url,
    }
    command = [
        sys.executable, "-m", "config.healthcheck", "worker", "--hostname", f"ops-readyz@{socket.gethostname()}",
        "--require-model",
    ]  # fmt: skip
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, timeout=60).returncode


def _wait_for(client, status: int, timeout: float) -> tuple[float, dict]:
    started = time.monotonic()
    while True:
        response = client.get("/readyz")
        if response.status_code == status:
            return time.monotonic() - started, response.json()
        if time.monotonic() - started > timeout:
            raise AssertionError(f"/readyz stayed {response.status_code} for {timeout} s: {response.json()}")
        time.sleep(0.5)


def test_readyz_follows_the_inference_worker(require_postgres, redis_url, settings, client, active_version, tmp_path):
    import redis

    from config.health import HEARTBEAT_PREFIX

    # Read before any setting changes: Celery loads its configuration from Django settings on first use.
    previous_eager = celery_app.conf.task_always_eager
    connection = redis.Redis.from_url(redis_url)

    for key in connection.scan_iter(match=f"{HEARTBEAT_PREFIX}*"):
        connection.delete(key)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_url
    settings.REDIS_URL = ""
    active_version("ops-worker-model")

    unready = client.get("/readyz")
    assert unready.status_code == 503
    assert unready.json()["checks"]["inference_workers"]["live"] == 0

    metrics_port = _free_port()
    worker = _start_worker(redis_url, settings.MEDIA_ROOT, tmp_path / "worker.log", metrics_port)
    try:
        _, body = _wait_for(client, 200, timeout=180)
        [live] = body["checks"]["inference_workers"]["workers"]
        assert live["model"] == "ops-worker-model"
        assert live["pid"] == worker.pid
        assert body["checks"]["model"]["loaded_by"] == [f"{live['hostname']}:{worker.pid}"]

        assert _heartbeat_check(redis_url) == 0

        # The worker's own exporter shows what it did with a real upload sent through the broker.
        celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
        celery_app.conf.CELERY_BROKER_URL = redis_url
        artwork = artwork_ingest(file=sample_image(0)[0].read_bytes()).artwork
        deadline = time.monotonic() + 60
        while not Prediction.objects.filter(artwork=artwork).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        artwork.refresh_from_db()
        route = "review_opened" if artwork.status == Artwork.Status.NEEDS_REVIEW else "auto_accepted"
        exported = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(exported)
            for sample in family.samples
        }
        version_label = (("model_version", "ops-worker-model"),)
        assert samples[("atelier_predictions_total", (*version_label, ("outcome", route)))] == 1.0
        assert samples[("atelier_inference_image_latency_seconds_count", version_label)] == 1.0

        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        seconds_to_unready, body = _wait_for(client, 503, timeout=30)
        assert seconds_to_unready <= 30
        assert _heartbeat_check(redis_url) == 1
        assert body["checks"]["inference_workers"] == {
            "ok": False,
            "live": 0,
            "workers": [],
            "ms": body["checks"]["inference_workers"]["ms"],
        }

        worker = _start_worker(redis_url, settings.MEDIA_ROOT, tmp_path / "worker.log", _free_port())
        _, body = _wait_for(client, 200, timeout=180)
        assert [w["pid"] for w in body["checks"]["inference_workers"]["workers"]] == [worker.pid]
    finally:
        celery_app.conf.CELERY_TASK_ALWAYS_EAGER = previous_eager
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
