"""The real stack: PostgreSQL, a Redis broker and a Celery worker process started here (killed with SIGKILL once).

Skipped without PostgreSQL and Redis (``require_postgres`` / ``redis_url``); CI provides both and fails instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from classifier.models import ModelVersion, Prediction
from classifier.services.dispatch import classification_request
from classifier.services.registry import model_version_activate
from config.celery_app import app as celery_app
from curation.models import Artwork, ReviewEvent, ReviewTask
from curation.services.ingest import artwork_ingest
from tests.conftest import REPO_ROOT
from tests.factories import sample_image

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

REVIEW_THRESHOLD = 0.12


class Worker:
    """``celery worker`` on both queues: one prefork child that loads the model lazily, as in production."""

    def __init__(self, *, broker_url: str, media_root: str, log_path: Path, extra_env: dict[str, str]) -> None:
        db = connection.settings_dict
        database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "true",
            "HF_HUB_OFFLINE": "1",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "MEDIA_ROOT": media_root,
            # Messages of a killed worker come back after 5 s instead of an hour.
            "CELERY_VISIBILITY_TIMEOUT": "5",
            "ATELIER_REVIEW_THRESHOLD": str(REVIEW_THRESHOLD),
            "OMP_NUM_THREADS": "1",
            **extra_env,
        }
        if db.get("PASSWORD"):
            self.env["PGPASSWORD"] = db["PASSWORD"]
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 — stays open for the life of the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "inference,default", "-c", "1",
             "--prefetch-multiplier", "64", "--without-gossip", "--without-mingle", "-l", "info"],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]


@pytest.fixture
def worker(require_postgres, redis_url, settings, tmp_path):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    # The settings_test override runs tasks in-process; these tests send them to the broker. (Celery reads the
    # Django-namespaced key first, so that is the one to change.)
    previous_eager = celery_app.conf.task_always_eager
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.CELERY_BROKER_URL = redis_url
    started = Worker(
        broker_url=redis_url,
        media_root=str(settings.MEDIA_ROOT),
        log_path=tmp_path / "worker.log",
        extra_env={"ATELIER_INFERENCE_CHUNK_SIZE": "5"},
    )
    started.start()
    yield started
    started.kill()
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = previous_eager
    redis.Redis.from_url(redis_url).flushdb()


def wait_until(condition, *, timeout: float, worker: Worker, what: str, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{worker.log()}")


def ingest(index: int, *, request_classification: bool = True) -> Artwork:
    path, _ = sample_image(index)
    with open(path, "rb") as handle:
        return artwork_ingest(file=handle, filename=path.name, request_classification=request_classification).artwork


def assert_routed(artwork: Artwork, prediction: Prediction) -> None:
    below = prediction.confidence < REVIEW_THRESHOLD
    assert artwork.status == (Artwork.Status.NEEDS_REVIEW if below else Artwork.Status.CLASSIFIED)
    assert artwork.latest_prediction_id == prediction.pk
    assert ReviewTask.objects.filter(artwork=artwork).count() == (1 if below else 0)


def test_thirty_uploads_are_each_predicted_once_and_routed(worker, make_version):
    version = make_version("v1")
    artworks = [ingest(index) for index in range(30)]

    wait_until(lambda: Prediction.objects.count() == 30, timeout=180, worker=worker, what="30 predictions")

    for artwork in artworks:
        artwork.refresh_from_db()
        (prediction,) = Prediction.objects.filter(artwork=artwork)
        assert prediction.model_version == version
        assert_routed(artwork, prediction)
    below = Prediction.objects.filter(confidence__lt=REVIEW_THRESHOLD).count()
    assert Artwork.objects.filter(status=Artwork.Status.NEEDS_REVIEW).count() == below
    assert Artwork.objects.filter(status=Artwork.Status.CLASSIFIED).count() == 30 - below
    assert ReviewEvent.objects.filter(action="opened").count() == below


def _largest_jpegs(sample_dir: Path, sample_labels: list[dict[str, str]], count: int) -> list[Path]:
    rows = [row for row in sample_labels if row["format"] == "JPEG"]
    rows.sort(key=lambda row: (-int(row["width"]) * int(row["height"]), row["file"]))
    return [sample_dir / row["file"] for row in rows[:count]]


def test_sigkill_mid_batch_loses_and_duplicates_nothing(worker, make_version, sample_dir, sample_labels):
    make_version("v1")
    artworks = []
    # The largest paintings: decoding them keeps the worker busy long enough to be killed in the middle.
    for path in _largest_jpegs(sample_dir, sample_labels, 30):
        with open(path, "rb") as handle:
            artworks.append(artwork_ingest(file=handle, filename=path.name, request_classification=False).artwork)
    # Six tasks of five; each batch commits as a whole, so the kill lands while a later batch is in flight.
    classification_request(artwork_ids=[artwork.pk for artwork in artworks], chunk_size=5)

    wait_until(lambda: Prediction.objects.exists(), timeout=120, worker=worker, what="the first prediction", poll=0.01)
    worker.kill()
    predicted_at_kill = Prediction.objects.count()
    assert predicted_at_kill < 30
    assert predicted_at_kill % 5 == 0  # whole batches or nothing: the killed one left no partial rows

    worker.start()
    wait_until(lambda: Prediction.objects.count() == 30, timeout=120, worker=worker, what="all 30 after restart")
    time.sleep(1)  # anything still in flight would show up as a duplicate attempt now

    assert Prediction.objects.count() == 30
    assert sorted(Prediction.objects.values_list("artwork_id", flat=True)) == sorted(a.pk for a in artworks)
    assert Artwork.objects.filter(status=Artwork.Status.PENDING).count() == 0
    for artwork in artworks:
        artwork.refresh_from_db()
        assert_routed(artwork, Prediction.objects.get(artwork=artwork))


def test_corrupt_file_version_switch_and_tampered_checkpoint_on_a_running_worker(worker, make_version, settings):
    from django.core.files.storage import default_storage

    first = make_version("v1")
    good = [ingest(index, request_classification=False) for index in range(3)]
    broken = ingest(3, request_classification=False)
    with default_storage.open(broken.original.name, "wb") as handle:
        handle.write(b"\xff\xd8\xff\xe0 not a jpeg any more")
    classification_request(artwork_ids=[artwork.pk for artwork in [good[0], broken, good[1], good[2]]])

    wait_until(
        lambda: Prediction.objects.count() == 3 and Artwork.objects.filter(status="failed").count() == 1,
        timeout=120,
        worker=worker,
        what="three predictions and one failure",
    )
    broken.refresh_from_db()
    assert broken.failure_reason.startswith("The image could not be decoded:")
    assert sorted(Prediction.objects.values_list("artwork_id", flat=True)) == sorted(a.pk for a in good)
    pid = worker.process.pid

    second = make_version("v2", which="b")
    switched = ingest(4)
    wait_until(lambda: switched.predictions.exists(), timeout=60, worker=worker, what="a prediction by v2")
    assert switched.predictions.get().model_version == second

    third = make_version("v3", which="a", activate=False)
    with open(third.checkpoint_path, "r+b") as handle:
        handle.seek(100)
        handle.write(b"tampered")
    model_version_activate(version=third)
    served = ingest(5)
    wait_until(lambda: served.predictions.exists(), timeout=60, worker=worker, what="a prediction after tampering")

    assert served.predictions.get().model_version == second
    third.refresh_from_db()
    assert third.status == ModelVersion.Status.REFUSED
    assert third.refused_reason.startswith("checkpoint sha256 mismatch")
    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE) == second
    assert first.predictions.count() == 3
    assert worker.process.pid == pid
    assert worker.process.poll() is None


def test_concurrent_single_uploads_are_grouped_into_one_batch(worker, make_version):
    from django.db import transaction

    make_version("v1")
    artworks = [ingest(index, request_classification=False) for index in range(10)]
    # Ten single-upload requests published together, as ten web requests committing at the same moment would.
    with transaction.atomic():
        for artwork in artworks:
            classification_request(artwork_ids=[artwork.pk])

    wait_until(lambda: Prediction.objects.count() == 10, timeout=120, worker=worker, what="10 predictions")
    assert sorted(Prediction.objects.values_list("batch_size", flat=True)) == [10] * 10
