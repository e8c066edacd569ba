"""Failure drills on the real stack, on loopback: gunicorn + a Celery inference worker + a default worker + beat,
PostgreSQL and Redis started by the drill itself (a throwaway cluster and server on free ports under a temporary
directory, so that restarting them hurts nobody else).

    .venv/bin/python bench/drills.py                 # everything (make drills)
    .venv/bin/python bench/drills.py --only load,fuzz --load-seconds 30

Scenarios: (a) ``load``: 8 API clients upload dev-sample images (made unique by a JPEG comment) for 60 s;
(b) ``worker``: the inference worker is killed with SIGKILL mid-load and restarted; (c) ``redis``: Redis is
stopped and restarted mid-load; (d) ``postgres``: PostgreSQL is stopped and restarted mid-load; (e) ``fuzz``:
hypothesis feeds malformed images to the ingest service. After each load the drill waits until every accepted
upload has its prediction and then counts, from the database: requests, accepted, predicted, lost, duplicated,
5xx, and the recovery time (from the failed component being back to ``/readyz`` answering 200 again).
Exit status 1 when anything was lost, duplicated or answered 5xx, a request failed outright, a recovery did not
happen, or the fuzzer crashed the ingest service.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_SAMPLE_DIR = REPO.parent / "shared" / "wikiart" / "dev_sample"
PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1] if Path("/usr/lib/postgresql").exists() else None
CLIENTS = 8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- The stack --------------------------------------------------------------------------------------------------
class Stack:
    """PostgreSQL, Redis, gunicorn, two Celery workers and beat, each restartable."""

    def __init__(self, workdir: Path, *, gunicorn_workers: int) -> None:
        self.workdir = workdir
        self.pg_port, self.redis_port, self.web_port = free_port(), free_port(), free_port()
        self.pg_dir = workdir / "pg"
        self.gunicorn_workers = gunicorn_workers
        self.processes: dict[str, subprocess.Popen] = {}
        self.metrics_token = secrets.token_hex(16)
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ATELIER_", "CELERY_"))},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{self.pg_port}/atelier_drill",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/1",
            "MEDIA_ROOT": str(workdir / "media"),
            "FILE_UPLOAD_TEMP_DIR": str(workdir / "upload-spool"),
            "ATELIER_MODEL_DIR": str(workdir / "models"),
            "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus"),
            "ATELIER_METRICS_TOKEN": self.metrics_token,
            "ATELIER_HEARTBEAT_INTERVAL_SECONDS": "1",
            "ATELIER_HEARTBEAT_TTL_SECONDS": "5",
            # Lost messages come back through the sweep; a drill cannot wait the production 2 + 5 minutes.
            "ATELIER_PENDING_SWEEP_INTERVAL_SECONDS": "5",
            "ATELIER_PENDING_SWEEP_AGE_SECONDS": "20",
            "ATELIER_THROTTLE_USER": "1000000/hour",
            "ATELIER_THROTTLE_UPLOADS": "1000000/hour",
            "ATELIER_INFERENCE_BATCH_SIZE": "16",
            "ATELIER_INFERENCE_BATCH_WAIT_SECONDS": "0.2",
            "LOG_LEVEL": "INFO",
            "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
        }
        for folder in ("media", "upload-spool", "models", "prometheus", "logs", "redis"):
            (workdir / folder).mkdir(parents=True, exist_ok=True)

    # PostgreSQL ------------------------------------------------------------------------------------------------
    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.as_postgres, str(PG_BIN / args[0]), *args[1:]], capture_output=True, text=True, check=check
        )

    def postgres_init(self) -> None:
        self.pg_dir.mkdir()
        if self.as_postgres:
            shutil.chown(self.pg_dir, "postgres", "postgres")
            os.chmod(self.workdir, 0o711)  # noqa: S103 — the postgres user must reach its data directory
        self._pg("initdb", "-D", str(self.pg_dir), "-U", "postgres", "-A", "trust", "--no-sync")
        self.postgres_start()
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "atelier_drill"],
            check=True,
        )

    def postgres_start(self) -> None:
        options = f"-p {self.pg_port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.pg_dir}"
        self._pg("pg_ctl", "-D", str(self.pg_dir), "-o", options, "-l", str(self.pg_dir / "server.log"), "-w", "start")

    def postgres_stop(self) -> None:
        self._pg("pg_ctl", "-D", str(self.pg_dir), "-m", "fast", "-w", "stop", check=False)

    # Redis -----------------------------------------------------------------------------------------------------
    def redis_start(self) -> None:
        # Persistence as in docker-compose.yml (append-only file): a restart keeps the queues.
        command = [
            "redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(self.workdir / "redis"),
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
        ]  # fmt: skip
        self._spawn("redis", command)
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(self.redis_port), "ping"], capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("redis did not start")

    def redis_stop(self) -> None:
        self._stop("redis", signal.SIGTERM)

    # Application processes -------------------------------------------------------------------------------------
    def _spawn(self, name: str, command: list[str]) -> None:
        handle = open(self.workdir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 — the child writes to it
        self.processes[name] = subprocess.Popen(
            command, cwd=REPO, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )

    def _stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=self.env, check=True, capture_output=True)

    def web_start(self) -> None:
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{self.web_port}",
            "--workers", str(self.gunicorn_workers), "--threads", "4", "--timeout", "120",
            "--limit-request-line", "8190", "--limit-request-field_size", "8190",
        ]  # fmt: skip
        self._spawn("web", command)

    def inference_worker_start(self) -> None:
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "inference", "--pool", "solo",
            "--concurrency", "1", "--prefetch-multiplier", "64", "--hostname", "drill-inference@%h",
            "--loglevel", "INFO",
        ]  # fmt: skip
        self._spawn("worker-inference", command)

    def inference_worker_kill(self) -> None:
        self._stop("worker-inference", signal.SIGKILL)

    def default_worker_start(self) -> None:
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "--pool", "solo",
            "--hostname", "drill-default@%h", "--loglevel", "INFO",
        ]  # fmt: skip
        self._spawn("worker-default", command)

    def beat_start(self) -> None:
        command = [
            sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
            "--schedule", str(self.workdir / "celerybeat-schedule"),
        ]  # fmt: skip
        self._spawn("beat", command)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.web_port}{path}"

    def shutdown(self) -> None:
        for name in ("web", "beat", "worker-default", "worker-inference", "redis"):
            self._stop(name)
        if self.pg_dir.exists():
            self.postgres_stop()


# --- Setup in this process (Django pointed at the drill's database) ----------------------------------------------
def django_setup(stack: Stack) -> None:
    for key, value in stack.env.items():
        if key != "PROMETHEUS_MULTIPROC_DIR":
            os.environ[key] = value
    import django

    django.setup()


def register_active_model(stack: Stack) -> str:
    import torch

    from classifier.services.registry import model_version_activate, model_version_register
    from curation.styles import STYLE_CODES
    from mltrain.architectures import create_model, default_preprocessing
    from mltrain.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = create_model("efficientnet_lite0", num_classes=len(STYLE_CODES), pretrained=True)
    path = stack.workdir / "models" / "drill-lite0.pt"
    save_checkpoint(
        path,
        architecture="efficientnet_lite0",
        state_dict=model.state_dict(),
        classes=list(STYLE_CODES),
        preprocessing=default_preprocessing("efficientnet_lite0"),
    )
    version = model_version_register(
        name="drill-lite0",
        architecture="efficientnet_lite0",
        checkpoint_path=path,
        classes=list(STYLE_CODES),
        preprocessing=default_preprocessing("efficientnet_lite0"),
    )
    model_version_activate(version=version)
    return version.name


def api_token() -> str:
    from django.contrib.auth import get_user_model

    from config.api.tokens import api_token_issue

    user = get_user_model().objects.create_superuser("drill", "drill@example.org", secrets.token_urlsafe(16))
    token, _ = api_token_issue(user=user)
    return token.key


# --- Load -------------------------------------------------------------------------------------------------------
@dataclass
class Upload:
    sha256: str
    started: float
    seconds: float
    status: int  # 0: no HTTP answer
    outcome: str = ""
    artwork_id: int | None = None
    error: str = ""


def unique_jpeg(data: bytes, tag: bytes) -> bytes:
    """The same picture with a JPEG comment segment after SOI: decodes identically, hashes differently."""
    payload = b"atelier-drill " + tag
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload + data[2:]


def sample_jpegs(sample_dir: Path, max_bytes: int) -> list[bytes]:
    from PIL import Image

    images = []
    for path in sorted(sample_dir.rglob("*")):
        if path.suffix.lower() not in (".jpg", ".jpeg") or path.stat().st_size > max_bytes:
            continue
        with Image.open(path) as image:
            if image.format != "JPEG" or min(image.size) < 150 or max(image.size) > 8192:
                continue
        images.append(path.read_bytes())
    return images


class Load:
    """``CLIENTS`` threads uploading unique images through the API until stopped."""

    def __init__(self, stack: Stack, token: str, images: list[bytes], scenario: str) -> None:
        self.stack, self.token, self.images, self.scenario = stack, token, images, scenario
        self.uploads: list[Upload] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(CLIENTS)]

    def _client(self, number: int) -> None:
        import requests

        session = requests.Session()
        session.headers["Authorization"] = f"Token {self.token}"
        rng = random.Random(f"{self.scenario}-{number}")
        sequence = 0
        while not self._stop.is_set():
            sequence += 1
            data = unique_jpeg(rng.choice(self.images), f"{self.scenario}-{number}-{sequence}".encode())
            sha256 = hashlib.sha256(data).hexdigest()
            started = time.monotonic()
            try:
                response = session.post(
                    self.stack.url("/api/v1/artworks/"),
                    files={"file": (f"drill-{number}-{sequence}.jpg", data, "image/jpeg")},
                    timeout=120,
                )
            except requests.RequestException as exc:
                self._record(Upload(sha256, started, time.monotonic() - started, 0, error=type(exc).__name__))
                continue
            upload = Upload(sha256, started, time.monotonic() - started, response.status_code)
            if response.status_code in (200, 201):
                [result] = response.json()["results"]
                upload.outcome = result["outcome"]
                upload.artwork_id = (result.get("artwork") or {}).get("id")
            else:
                upload.error = response.text[:200]
            self._record(upload)

    def _record(self, upload: Upload) -> None:
        with self._lock:
            self.uploads.append(upload)

    def start(self) -> None:
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=180)
        self.stopped = time.monotonic()


class ReadinessMonitor:
    """Polls /readyz every half second; answers when it was first 200 again after a moment."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import requests

        while not self._stop.is_set():
            try:
                status = requests.get(self.stack.url("/readyz"), timeout=5).status_code
            except requests.RequestException:
                status = 0
            self.samples.append((time.monotonic(), status))
            self._stop.wait(0.5)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def first_ready_after(self, moment: float) -> float | None:
        return next((at for at, status in self.samples if at >= moment and status == 200), None)

    def first_unready_after(self, moment: float) -> float | None:
        return next((at for at, status in self.samples if at >= moment and status != 200), None)


def wait_ready(stack: Stack, timeout: float) -> float:
    import requests

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if requests.get(stack.url("/readyz"), timeout=5).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"/readyz not 200 within {timeout} s; see {stack.workdir / 'logs'}")


# --- Accounting -------------------------------------------------------------------------------------------------
def settle(accepted_shas: set[str], timeout: float) -> float:
    """Wait until every accepted artwork has left ``pending``; returns the seconds waited."""
    from django.db import close_old_connections, connections

    from curation.models import Artwork

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        close_old_connections()
        try:
            pending = Artwork.objects.filter(sha256__in=accepted_shas, status=Artwork.Status.PENDING).count()
        except Exception:  # the database may still be restarting
            connections.close_all()
            pending = -1
        if pending == 0:
            return time.monotonic() - started
        time.sleep(1)
    return time.monotonic() - started


def account(load: Load, model_version: str, settle_timeout: float) -> dict:
    from django.db.models import Count

    from classifier.models import Prediction
    from curation.models import Artwork

    uploads = load.uploads
    answered_ok = [u for u in uploads if u.status in (200, 201) and u.artwork_id is not None]
    accepted_shas = {u.sha256 for u in answered_ok}
    drain_seconds = settle(accepted_shas, settle_timeout)
    artworks = {a.sha256: a for a in Artwork.objects.filter(sha256__in=accepted_shas)}
    predictions = dict(
        Prediction.objects.filter(artwork__sha256__in=accepted_shas, model_version__name=model_version)
        .values_list("artwork__sha256")
        .annotate(n=Count("id"))
    )
    ids_by_sha: dict[str, set[int]] = {}
    for upload in answered_ok:
        ids_by_sha.setdefault(upload.sha256, set()).add(upload.artwork_id)
    lost = sorted(sha for sha in accepted_shas if sha not in artworks or predictions.get(sha, 0) == 0)
    duplicated = sorted(sha for sha in accepted_shas if predictions.get(sha, 0) > 1 or len(ids_by_sha.get(sha, ())) > 1)
    failed = sorted(sha for sha, artwork in artworks.items() if artwork.status == Artwork.Status.FAILED)
    latencies = sorted(u.seconds for u in answered_ok)
    duration = load.stopped - load.started
    return {
        "duration_s": round(duration, 1),
        "requests": len(uploads),
        "accepted": len(accepted_shas),
        "accepted_on_retry": sum(1 for u in answered_ok if u.outcome == "duplicate"),
        "predicted": sum(1 for sha in accepted_shas if predictions.get(sha, 0) == 1),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "failed_artworks": len(failed),
        "http_5xx": sum(1 for u in uploads if u.status >= 500),
        "http_4xx": sum(1 for u in uploads if 400 <= u.status < 500),
        "no_answer": sum(1 for u in uploads if u.status == 0),
        "throughput_per_s": round(len(answered_ok) / duration, 2) if duration else 0.0,
        "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3) if latencies else None,
        "drain_s": round(drain_seconds, 1),
        "errors_sample": sorted({u.error for u in uploads if u.error})[:5],
    }


# --- Scenarios --------------------------------------------------------------------------------------------------
@dataclass
class Fault:
    name: str
    inject: object  # callable(stack)
    restore: object  # callable(stack)
    at: float = 10.0
    outage: float = 3.0
    log: dict = field(default_factory=dict)


def run_load(stack, token, images, model_version, *, scenario, seconds, fault=None, settle_timeout=240.0):
    log_offsets = {path: path.stat().st_size for path in (stack.workdir / "logs").glob("*.log")}
    monitor = ReadinessMonitor(stack)
    monitor.start()
    load = Load(stack, token, images, scenario)
    load.start()
    recovery: dict = {}
    try:
        if fault is not None:
            time.sleep(fault.at)
            injected = time.monotonic()
            log(f"{scenario}: injecting fault ({fault.name})")
            fault.inject(stack)
            time.sleep(fault.outage)
            fault.restore(stack)
            restored = time.monotonic()
            log(f"{scenario}: component back after {restored - injected:.1f} s")
            remaining = seconds - (restored - load.started)
            if remaining > 0:
                time.sleep(remaining)
        else:
            time.sleep(seconds)
    finally:
        load.stop()
    if fault is not None:
        # Keep polling until ready (the sweep may still be catching up when the load ends).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            unready = monitor.first_unready_after(injected)
            if monitor.first_ready_after(max(restored, unready or restored)) is not None:
                break
            time.sleep(0.5)
        unready_at = monitor.first_unready_after(injected)
        # Ready again means: 200 after it had turned unready (a heartbeat outliving a dead worker for its TTL
        # must not count as recovered), and after the component was back.
        ready_at = monitor.first_ready_after(max(restored, unready_at or restored))
        recovery = {
            "fault": fault.name,
            "outage_s": round(restored - injected, 1),
            "readyz_unready_after_fault_s": round(unready_at - injected, 1) if unready_at else None,
            "recovery_s": round(ready_at - restored, 1) if ready_at else None,
            "recovered": ready_at is not None,
        }
    monitor.stop()
    report = account(load, model_version, settle_timeout)
    report.update(recovery)
    report.update(log_evidence(stack, log_offsets))
    report["scenario"] = scenario
    return report


def log_evidence(stack: Stack, offsets: dict[Path, int]) -> dict:
    """What the services logged during the scenario: proof that the fault paths were taken."""

    def new_lines(name: str) -> list[dict]:
        path = stack.workdir / "logs" / f"{name}.log"
        if not path.exists():
            return []
        with open(path, "rb") as handle:
            handle.seek(offsets.get(path, 0))
            lines = handle.read().decode(errors="replace").splitlines()
        entries = []
        for line in lines:
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
        return entries

    web = new_lines("web")
    requeued = 0
    for entry in new_lines("worker-default"):
        message = str(entry.get("message", ""))
        if message.startswith("re-enqueued "):
            requeued += int(message.split()[1])
    return {
        "web_db_retries": sum(1 for e in web if str(e.get("message", "")).startswith("database unavailable")),
        "web_publish_failures": sum(1 for e in web if "in on_commit()" in str(e.get("message", ""))),
        "sweep_requeued": requeued,
    }


def fuzz_ingest(examples: int, seed_images: list[bytes]) -> dict:
    """Hypothesis-generated malformed images through ``artwork_ingest``: only IngestError may come out, and a
    refused file leaves no row and no file."""
    from django.conf import settings
    from django.core.files.storage import default_storage
    from hypothesis import HealthCheck, given, seed
    from hypothesis import settings as hypothesis_settings
    from hypothesis import strategies as st
    from PIL import Image

    from curation.models import Artwork
    from curation.services.ingest import IngestError, artwork_ingest

    def encoded(kind: str, width: int, height: int, colour: int) -> bytes:
        image = Image.new("RGB", (width, height), (colour, 255 - colour, colour // 2))
        buffer = io.BytesIO()
        image.save(buffer, format=kind)
        return buffer.getvalue()

    bases = st.one_of(
        st.builds(
            encoded,
            st.sampled_from(["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"]),
            st.integers(1, 400),
            st.integers(1, 400),
            st.integers(0, 255),
        ),
        st.sampled_from([image[:200_000] for image in seed_images[:5]]),
        st.binary(max_size=2048),
    )

    @st.composite
    def malformed(draw) -> bytes:
        data = bytearray(draw(bases))
        for _ in range(draw(st.integers(0, 4))):
            operation = draw(st.sampled_from(["truncate", "flip", "insert", "header"]))
            if not data:
                break
            position = draw(st.integers(0, len(data) - 1))
            if operation == "truncate":
                data = data[:position]
            elif operation == "flip":
                data[position] ^= draw(st.integers(1, 255))
            elif operation == "insert":
                data[position:position] = draw(st.binary(min_size=1, max_size=64))
            else:  # damage the first bytes, where formats keep their dimensions
                header = min(len(data), 32)
                data[draw(st.integers(0, header - 1))] = draw(st.integers(0, 255))
        return bytes(data)

    tally = {"examples": 0, "accepted": 0, "rejected": 0, "crashes": 0, "left_behind": 0, "crash_samples": []}
    # An empty media directory of its own: "nothing left behind" is then cheap to check exactly.
    media = Path(settings.MEDIA_ROOT).parent / "fuzz-media"
    media.mkdir(exist_ok=True)

    def files() -> set[str]:
        return {str(p) for p in media.rglob("*") if p.is_file()}

    @seed(20261204)
    @hypothesis_settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(malformed())
    def one(data: bytes) -> None:
        tally["examples"] += 1
        before_rows, before_files = Artwork.objects.count(), files()
        try:
            result = artwork_ingest(file=data, filename="fuzz.bin", request_classification=False)
        except IngestError:
            tally["rejected"] += 1
            if Artwork.objects.count() != before_rows or files() != before_files:
                tally["left_behind"] += 1
            return
        except Exception as exc:  # anything else is a crash: record it, keep fuzzing
            tally["crashes"] += 1
            if len(tally["crash_samples"]) < 5:
                tally["crash_samples"].append(f"{type(exc).__name__}: {exc}"[:200])
            return
        tally["accepted"] += 1
        if result.created:  # keep the drill database and media to what the load scenarios made
            artwork = result.artwork
            names = (artwork.original.name, artwork.display_image.name, artwork.thumbnail.name)
            artwork.delete()
            for name in names:
                default_storage.delete(name)

    from django.test import override_settings

    with override_settings(MEDIA_ROOT=str(media)):
        one()
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="load,worker,redis,postgres,fuzz")
    parser.add_argument("--load-seconds", type=float, default=60.0)
    parser.add_argument("--fault-seconds", type=float, default=40.0, help="load duration of each fault scenario")
    parser.add_argument("--fuzz-examples", type=int, default=400)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--sample-dir", type=Path, default=Path(os.environ.get("SAMPLE_DIR", DEFAULT_SAMPLE_DIR)))
    parser.add_argument("--max-image-bytes", type=int, default=3 * 1024 * 1024)
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs, database)")
    parser.add_argument("--report", type=Path, default=None, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    scenarios = [name.strip() for name in args.only.split(",") if name.strip()]

    if PG_BIN is None:
        print("drills need PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="atelier-drills-"))
    stack = Stack(workdir, gunicorn_workers=args.gunicorn_workers)
    reports: list[dict] = []
    failures: list[str] = []
    try:
        ports = f"PostgreSQL :{stack.pg_port}, Redis :{stack.redis_port}, web :{stack.web_port}"
        log(f"working directory {workdir}; {ports}")
        stack.postgres_init()
        stack.redis_start()
        stack.manage("migrate", "--noinput")
        django_setup(stack)
        model_version = register_active_model(stack)
        token = api_token()
        images = sample_jpegs(args.sample_dir, args.max_image_bytes)
        log(f"{len(images)} dev-sample JPEGs; model {model_version}")
        stack.web_start()
        stack.inference_worker_start()
        stack.default_worker_start()
        stack.beat_start()
        log(f"stack ready after {wait_ready(stack, 240):.1f} s")

        faults = {
            # Down longer than the heartbeat TTL, so that /readyz must notice.
            "worker": Fault("kill -9 inference worker, restart", lambda s: s.inference_worker_kill(),
                            lambda s: s.inference_worker_start(), outage=8.0),
            "redis": Fault("stop Redis, start again", lambda s: s.redis_stop(), lambda s: s.redis_start()),
            "postgres": Fault("stop PostgreSQL (fast), start again", lambda s: s.postgres_stop(),
                              lambda s: s.postgres_start()),
        }  # fmt: skip
        for scenario in scenarios:
            if scenario == "fuzz":
                log("fuzz: malformed images through the ingest service")
                result = fuzz_ingest(args.fuzz_examples, images)
                result["scenario"] = "fuzz"
                reports.append(result)
                if result["crashes"] or result["left_behind"]:
                    failures.append(f"fuzz: {result['crashes']} crashes, {result['left_behind']} left files/rows")
                continue
            if scenario != "load" and scenario not in faults:
                raise SystemExit(f"unknown scenario {scenario}")
            seconds = args.load_seconds if scenario == "load" else args.fault_seconds
            log(f"{scenario}: {CLIENTS} clients for {seconds:.0f} s")
            if scenario != "load":
                wait_ready(stack, 120)
            result = run_load(
                stack, token, images, model_version, scenario=scenario, seconds=seconds, fault=faults.get(scenario)
            )
            reports.append(result)
            log(f"{scenario}: {json.dumps(result)}")
            for key in ("lost", "duplicated", "http_5xx", "no_answer", "failed_artworks"):
                if result[key]:
                    failures.append(f"{scenario}: {key}={result[key]}")
            if result["accepted"] == 0:
                failures.append(f"{scenario}: nothing was accepted")
            if scenario in faults and not result.get("recovered"):
                failures.append(f"{scenario}: /readyz did not recover")
        reports.append({"scenario": "metrics", **scrape_metrics(stack)})
    except Exception as exc:
        failures.append(f"drill aborted: {type(exc).__name__}: {exc}")
        for name in ("web", "worker-inference", "worker-default", "beat", "redis"):
            path = workdir / "logs" / f"{name}.log"
            if path.exists():
                print(f"--- last lines of {path}", file=sys.stderr)
                print("\n".join(path.read_text(errors="replace").splitlines()[-15:]), file=sys.stderr)
    finally:
        stack.shutdown()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print_report(reports, failures)
    if args.report:
        args.report.write_text(json.dumps({"scenarios": reports, "failures": failures}, indent=2))
    return 1 if failures else 0


def scrape_metrics(stack: Stack) -> dict:
    """Totals from /metrics (multiprocess mode: gunicorn's and the workers' counters together)."""
    import requests
    from prometheus_client.parser import text_string_to_metric_families

    response = requests.get(
        stack.url("/metrics"), headers={"Authorization": f"Bearer {stack.metrics_token}"}, timeout=30
    )
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "atelier_ingest_total":
                key = f"ingest_{sample.labels['result']}"
            elif sample.name == "atelier_predictions_total":
                key = f"predictions_{sample.labels['outcome']}"
            elif sample.name == "atelier_inference_batch_size_count":
                key = "forward_passes"
            elif sample.name == "atelier_inference_batch_size_sum":
                key = "images_in_forward_passes"
            else:
                continue
            totals[key] = totals.get(key, 0) + sample.value
    return {"http_status": response.status_code, **{k: int(v) for k, v in sorted(totals.items())}}


def print_report(reports: list[dict], failures: list[str]) -> None:
    columns = [
        "scenario", "requests", "accepted", "predicted", "lost", "duplicated", "http_5xx", "no_answer",
        "throughput_per_s", "latency_p95_s", "outage_s", "recovery_s", "drain_s", "web_db_retries",
        "web_publish_failures", "sweep_requeued",
    ]  # fmt: skip
    print("\n=== Atelier drills ===")
    print(" | ".join(columns))
    for report in reports:
        if report["scenario"] in ("fuzz", "metrics"):
            continue
        print(" | ".join(str(report.get(column, "-")) for column in columns))
    for report in reports:
        if report["scenario"] in ("fuzz", "metrics"):
            print(f"{report['scenario']}: {json.dumps({k: v for k, v in report.items() if k != 'scenario'})}")
    print("RESULT:", "FAILED\n  " + "\n  ".join(failures) if failures else "OK (nothing lost, duplicated or 5xx)")


if __name__ == "__main__":
    raise SystemExit(main())
