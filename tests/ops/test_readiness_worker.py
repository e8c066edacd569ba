"""/readyz against a real Celery inference worker on PostgreSQL + Redis: ready once the worker has loaded the
active model, unavailable within 30 s of the worker being killed with SIGKILL, ready again after a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

REPO = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    from django.db import connection

    params = connection.settings_dict
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return (
        f"postgres://{params['USER']}{password}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
        f"/{params['NAME']}"
    )


def _start_worker(broker_url: str, media_root: str, log_path: Path) -> subprocess.Popen:
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
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "inference",
        "--pool", "solo", "--concurrency", "1", "--hostname", "ops-readyz@%h", "--loglevel", "INFO",
    ]  # fmt: skip
    log = open(log_path, "ab")  # noqa: SIM115 — the worker writes to it until it dies
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_for(client, status: int, timeout: float) -> tuple[float, dict]:
    started = time.monotonic()
    while True:
        response = client.get("/readyz")
        if response.status_code == status:
            return time.monotonic() - started, response.json()
        if time.monotonic() - started > timeout:
            raise AssertionError(f"/readyz stayed {response.status_code} for {timeout} s: {response.json()}")
        time.sleep(0.5)


def test_readyz_follows_the_inference_worker(
    transactional_db, require_postgres, redis_url, settings, client, active_version, tmp_path
):
    import redis

    from config.health import HEARTBEAT_PREFIX

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

    worker = _start_worker(redis_url, settings.MEDIA_ROOT, tmp_path / "worker.log")
    try:
        _, body = _wait_for(client, 200, timeout=180)
        [live] = body["checks"]["inference_workers"]["workers"]
        assert live["model"] == "ops-worker-model"
        assert live["pid"] == worker.pid
        assert body["checks"]["model"]["loaded_by"] == [f"{live['hostname']}:{worker.pid}"]

        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        seconds_to_unready, body = _wait_for(client, 503, timeout=30)
        assert seconds_to_unready <= 30
        assert body["checks"]["inference_workers"] == {
            "ok": False,
            "live": 0,
            "workers": [],
            "ms": body["checks"]["inference_workers"]["ms"],
        }

        worker = _start_worker(redis_url, settings.MEDIA_ROOT, tmp_path / "worker.log")
        _, body = _wait_for(client, 200, timeout=180)
        assert [w["pid"] for w in body["checks"]["inference_workers"]["workers"]] == [worker.pid]
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
