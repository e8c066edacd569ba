"""Liveness (``/healthz``), readiness (``/readyz``) and the worker heartbeat they rely on.

Every Celery worker process writes a heartbeat key to Redis every ``HEARTBEAT_INTERVAL_SECONDS`` with a TTL of
``HEARTBEAT_TTL_SECONDS``: its hostname, pid, the queues it consumes and the model version its inference engine
has loaded. A worker that dies (even ``kill -9``) stops refreshing its key, the key expires, and ``/readyz``
turns 503 within the TTL. An inference worker's heartbeat thread also loads the active model (and switches
when another version is activated), so the worker is ready before its first task and the heartbeat tells the
truth about what is loaded.

``python -m config.healthcheck worker [--hostname NAME]`` exits 0 while that worker's heartbeat is fresh (the docker
compose healthcheck of the workers); ``python -m config.healthcheck ready`` runs the readiness checks.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

HEARTBEAT_PREFIX = "atelier:heartbeat:"
INFERENCE_QUEUE = "inference"


# --- Redis ----------------------------------------------------------------------------------------------------
def heartbeat_redis_url() -> str:
    """Where heartbeats live: the broker (every worker reaches it anyway), else the cache's Redis."""
    return settings.ATELIER.get("HEARTBEAT_REDIS_URL") or settings.CELERY_BROKER_URL or settings.REDIS_URL


def _redis_client(url: str):
    import redis

    # Short timeouts: a probe must answer within the load balancer's patience even when Redis hangs.
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1, health_check_interval=10)


# --- The worker side --------------------------------------------------------------------------------------------
def _loaded_model_name() -> str | None:
    from classifier.engine import runtime

    loaded = runtime._loaded  # a read-only peek; loading happens through active_engine().
    return loaded.version.name if loaded is not None else None


def _refresh_model() -> dict[str, Any]:
    """Load or switch to the active version (the engine's own logic) and say what is loaded."""
    from django.db import close_old_connections

    from classifier.engine.runtime import active_engine

    close_old_connections()
    try:
        loaded = active_engine()
    except Exception as exc:  # the heartbeat must keep beating whatever the engine does.
        logger.warning("heartbeat: model refresh failed: %s", exc)
        return {"model": _loaded_model_name(), "model_error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"model": loaded.version.name if loaded is not None else None, "model_error": ""}


class WorkerHeartbeat:
    """A daemon thread that refreshes this process's heartbeat key until the process ends."""

    def __init__(self, *, hostname: str, queues: list[str], load_model: bool) -> None:
        self.hostname = hostname
        self.queues = sorted(queues)
        self.load_model = load_model and INFERENCE_QUEUE in queues
        self.key = f"{HEARTBEAT_PREFIX}{hostname}:{os.getpid()}"
        self.started_at = time.time()
        # A prefork child outlives a parent killed with -9 for a while; it must not keep the worker "alive".
        self.parent_pid = os.getppid()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="atelier-heartbeat", daemon=True)

    def payload(self) -> dict[str, Any]:
        model_state = _refresh_model() if self.load_model else {"model": None, "model_error": ""}
        return {
            "hostname": self.hostname,
            "pid": os.getpid(),
            "queues": self.queues,
            "started_at": self.started_at,
            "at": time.time(),
            **model_state,
        }

    def beat(self, client) -> None:
        ttl = settings.ATELIER["HEARTBEAT_TTL_SECONDS"]
        client.set(self.key, json.dumps(self.payload()), ex=ttl)

    def _run(self) -> None:
        client = _redis_client(heartbeat_redis_url())
        interval = settings.ATELIER["HEARTBEAT_INTERVAL_SECONDS"]
        while not self._stop.is_set():
            if os.getppid() != self.parent_pid:
                logger.warning("heartbeat: parent process %s is gone, no longer beating", self.parent_pid)
                break
            try:
                self.beat(client)
            except Exception as exc:  # Redis restarts; keep trying at the same pace.
                logger.warning("heartbeat not written: %s", exc)
            self._stop.wait(interval)
        with contextlib.suppress(Exception):  # shutting down anyway; the TTL cleans up
            client.delete(self.key)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()


_heartbeat: WorkerHeartbeat | None = None
# Set by celeryd_init in the worker's main process before the pool forks, so that children know it too.
_worker_hostname = ""


def _consumed_queues(app) -> list[str]:
    consume_from = app.amqp.queues.consume_from
    return list(consume_from.keys()) if consume_from else [app.conf.task_default_queue]


def _start_heartbeat(*, hostname: str, queues: list[str], load_model: bool) -> None:
    global _heartbeat
    if _heartbeat is not None or not heartbeat_redis_url():
        return
    _heartbeat = WorkerHeartbeat(hostname=hostname, queues=queues, load_model=load_model)
    _heartbeat.start()


def _on_worker_ready(sender=None, **_: Any) -> None:
    controller = getattr(sender, "controller", None)
    pool_module = getattr(getattr(controller, "pool_cls", None), "__module__", "") or ""
    # A prefork parent never runs tasks and must not initialise CUDA before forking: its children report the
    # model (worker_process_init below); the parent only says that the worker is alive.
    is_prefork_parent = "prefork" in pool_module
    _start_heartbeat(
        hostname=sender.hostname,
        queues=_consumed_queues(sender.app),
        load_model=settings.ATELIER["WORKER_PRELOAD_MODEL"] and not is_prefork_parent,
    )


def _on_celeryd_init(sender=None, **_: Any) -> None:
    global _worker_hostname
    _worker_hostname = str(sender or "")


def _on_worker_process_init(**_: Any) -> None:
    global _heartbeat
    from celery import current_app

    _heartbeat = None  # a thread object copied by fork has no thread behind it
    _start_heartbeat(
        hostname=_worker_hostname or f"celery@{socket.gethostname()}",
        queues=_consumed_queues(current_app),
        load_model=settings.ATELIER["WORKER_PRELOAD_MODEL"],
    )


def _on_worker_shutdown(**_: Any) -> None:
    if _heartbeat is not None:
        _heartbeat.stop()


def connect_celery_signals() -> None:
    """Start heartbeats in worker processes (called once by ``config.celery_app``)."""
    from celery import signals

    signals.celeryd_init.connect(_on_celeryd_init, weak=False, dispatch_uid="atelier_heartbeat_celeryd_init")
    signals.worker_ready.connect(_on_worker_ready, weak=False, dispatch_uid="atelier_heartbeat_ready")
    signals.worker_process_init.connect(_on_worker_process_init, weak=False, dispatch_uid="atelier_heartbeat_init")
    signals.worker_shutdown.connect(_on_worker_shutdown, weak=False, dispatch_uid="atelier_heartbeat_shutdown")


# --- The reading side -------------------------------------------------------------------------------------------
def live_workers() -> list[dict[str, Any]]:
    """Heartbeats that have not expired, oldest worker first. Raises redis errors."""
    client = _redis_client(heartbeat_redis_url())
    keys = sorted(client.scan_iter(match=f"{HEARTBEAT_PREFIX}*", count=200))
    beats = []
    for raw in client.mget(keys) if keys else []:
        if raw:
            beats.append(json.loads(raw))
    return sorted(beats, key=lambda beat: (beat.get("started_at", 0), beat.get("pid", 0)))


def _timed(check) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = check()
    except Exception as exc:  # a probe reports any failure as "not ready", never a 500.
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _check_database() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def _check_redis() -> dict[str, Any]:
    urls = {url for url in (settings.CELERY_BROKER_URL, settings.REDIS_URL) if url.startswith("redis")}
    if not urls:
        return {"ok": True, "detail": "no Redis configured (tasks run in-process)"}
    for url in urls:
        _redis_client(url).ping()
    return {"ok": True}


def readiness() -> tuple[bool, dict[str, Any]]:
    """Run every readiness check; returns (ready, detail by check)."""
    from classifier.models import ModelVersion

    checks: dict[str, dict[str, Any]] = {"database": _timed(_check_database), "redis": _timed(_check_redis)}
    eager = settings.CELERY_TASK_ALWAYS_EAGER

    def check_workers() -> dict[str, Any]:
        if eager:
            return {"ok": True, "detail": "tasks run in-process (no broker)", "live": 0}
        inference = [beat for beat in live_workers() if INFERENCE_QUEUE in beat.get("queues", [])]
        return {
            "ok": bool(inference),
            "live": len(inference),
            "workers": [
                {key: beat.get(key) for key in ("hostname", "pid", "model", "model_error", "at")} for beat in inference
            ],
        }

    checks["inference_workers"] = _timed(check_workers)

    def check_model() -> dict[str, Any]:
        active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).values_list("name", flat=True).first()
        if active is None:
            return {"ok": False, "active": None, "error": "no active model version"}
        if eager:
            return {"ok": True, "active": active, "detail": "loaded in-process on first use"}
        loaded_by = [
            f"{worker['hostname']}:{worker['pid']}"
            for worker in checks["inference_workers"].get("workers", [])
            if worker.get("model") == active
        ]
        result: dict[str, Any] = {"ok": bool(loaded_by), "active": active, "loaded_by": loaded_by}
        if not loaded_by:
            result["error"] = "no live inference worker has the active version loaded"
        return result

    checks["model"] = _timed(check_model) if checks["database"]["ok"] else {"ok": False, "error": "no database"}
    return all(check["ok"] for check in checks.values()), checks


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving requests. No dependency is checked (that is /readyz)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to take work: database, Redis, a live inference worker, the active model loaded. 503 otherwise."""
    ready, checks = readiness()
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def main(argv: list[str] | None = None) -> int:
    import argparse

    import django

    parser = argparse.ArgumentParser(prog="python -m config.healthcheck", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker", help="exit 0 while this host's worker heartbeat is fresh")
    worker.add_argument("--hostname", default="", help="celery hostname (default: any on this host)")
    worker.add_argument("--require-model", action="store_true", help="also require a loaded model")
    sub.add_parser("ready", help="run the readiness checks, print them, exit 0 when ready")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    if args.command == "ready":
        ready, checks = readiness()
        print(json.dumps(checks, indent=2, default=str))
        return 0 if ready else 1
    host = socket.gethostname()
    beats = live_workers()
    mine = [
        beat
        for beat in beats
        if (beat["hostname"] == args.hostname if args.hostname else beat["hostname"].split("@")[-1] == host)
    ]
    if args.require_model:
        mine = [beat for beat in mine if beat.get("model")]
    print(json.dumps(mine, default=str))
    return 0 if mine else 1
