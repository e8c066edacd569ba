"""The README's curl session over real HTTP against a live server: get a token, upload, poll the prediction,
resolve the review. A real EfficientNet-Lite0 checkpoint is active.

Twice: with tasks run in-process when the upload commits (any laptop), and with the production shape on
PostgreSQL: a Redis broker and a real Celery worker process predicting (skipped without them; CI has both).
"""

from __future__ import annotations

import time

import pytest
import requests

from curation.models import Artwork, ReviewEvent, ReviewTask
from tests.factories import UserFactory, sample_image

# The live server needs a transactional database (tests/conftest.py restores the styles and role groups for it).
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
POLL_SECONDS = 120


def curl_session(base_url: str, *, version_id: int, version_name: str) -> None:
    """The README's steps, as an API client performs them; asserts what each answer must be."""
    api = f"{base_url}/api/v1"
    http = requests.Session()

    # 1. A token for the curator.
    response = http.post(f"{api}/auth/token/", json={"username": "alice", "password": PASSWORD}, timeout=30)
    assert response.status_code == 200
    curator = {"Authorization": f"Token {response.json()['token']}"}

    # 2. Upload one painting.
    path, _ = sample_image(3)
    with open(path, "rb") as handle:
        response = http.post(
            f"{api}/artworks/",
            headers=curator,
            files={"file": (path.name, handle, "image/jpeg")},
            data={"title": "Round trip", "artist": "Unknown"},
            timeout=120,
        )
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["accepted"], report["duplicates"], report["rejected"]) == (1, 0, 0)
    artwork_id = report["results"][0]["artwork"]["id"]

    # 3. Poll the artwork until its prediction is there (conditional GETs keep the polling cheap).
    deadline = time.monotonic() + POLL_SECONDS
    etag = None
    while True:
        headers = {**curator, **({"If-None-Match": etag} if etag else {})}
        response = http.get(f"{api}/artworks/{artwork_id}/", headers=headers, timeout=30)
        assert response.status_code in (200, 304)
        if response.status_code == 200:
            etag = response.headers["ETag"]
            detail = response.json()
            if detail["latest_prediction"] is not None:
                break
        assert time.monotonic() < deadline, "no prediction within the polling window"
        time.sleep(0.5)
    prediction = detail["latest_prediction"]
    assert prediction["model_version"] == {"id": version_id, "name": version_name}
    assert len(prediction["top3"]) == 3
    assert detail["status"] == "needs_review"
    assert detail["review"]["status"] == "open"
    assert http.get(f"{api}/artworks/{artwork_id}/", headers={**curator, "If-None-Match": etag}).status_code == 304

    # 4. A reviewer claims the task and corrects the style.
    response = http.post(f"{api}/auth/token/", json={"username": "rita", "password": PASSWORD}, timeout=30)
    reviewer_headers = {"Authorization": f"Token {response.json()['token']}"}
    response = http.post(f"{api}/reviews/claim/", headers=reviewer_headers, timeout=30)
    assert response.status_code == 200
    task = response.json()
    assert (task["artwork"]["id"], task["status"], task["claimed_by"]) == (artwork_id, "claimed", "rita")
    new_style = "Baroque" if prediction["predicted_style"] != "Baroque" else "Rococo"
    response = http.post(
        f"{api}/reviews/{task['id']}/resolve/",
        headers=reviewer_headers,
        json={"decision": "corrected", "style": new_style},
        timeout=30,
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decision"]) == ("resolved", "corrected")

    # 5. The curator sees the verified style; the database agrees.
    detail = http.get(f"{api}/artworks/{artwork_id}/", headers=curator, timeout=30).json()
    assert (detail["status"], detail["verified_style"], detail["label_source"]) == ("reviewed", new_style, "reviewer")
    artwork = Artwork.objects.get(pk=artwork_id)
    assert (artwork.verified_style.code, artwork.uploaded_by.username) == (new_style, "alice")
    stored_task = ReviewTask.objects.get(pk=task["id"])
    assert (stored_task.resolved_by.username, stored_task.final_style.code) == ("rita", new_style)
    assert list(ReviewEvent.objects.filter(task=stored_task).order_by("id").values_list("action", flat=True)) == [
        "opened",
        "claimed",
        "corrected",
    ]


def _users() -> None:
    UserFactory(username="alice", roles=["curator"])
    UserFactory(username="rita", roles=["reviewer"])


def test_curl_session_with_in_process_tasks(live_server, make_version, sample_dir):
    # A fresh 27-class head is unsure of everything: far below a 0.9 threshold, so the painting goes to review.
    version = make_version("round-trip-model", review_threshold=0.9)
    _users()
    curl_session(live_server.url, version_id=version.pk, version_name="round-trip-model")


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.redis
def test_curl_session_with_a_celery_worker(
    live_server, make_version, sample_dir, require_postgres, redis_url, settings, tmp_path
):
    import redis

    from config.celery_app import app as celery_app
    from tests.classifier.test_worker_integration import Worker

    version = make_version("round-trip-worker-model", review_threshold=0.9)
    _users()
    redis.Redis.from_url(redis_url).flushdb()
    # settings_test runs tasks in-process; here the live server's upload goes to the broker and the worker
    # process (on this test's database) predicts. Celery reads the Django-namespaced keys first.
    previous_eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.CELERY_BROKER_URL = redis_url
    worker = Worker(
        broker_url=redis_url,
        media_root=str(settings.MEDIA_ROOT),
        log_path=tmp_path / "worker.log",
        extra_env={"ATELIER_REVIEW_THRESHOLD": "0.9"},
    )
    worker.start()
    try:
        curl_session(live_server.url, version_id=version.pk, version_name="round-trip-worker-model")
    except AssertionError as error:
        raise AssertionError(f"{error}\nworker log:\n{worker.log()}") from error
    finally:
        worker.kill()
        celery_app.conf.CELERY_TASK_ALWAYS_EAGER = previous_eager
        redis.Redis.from_url(redis_url).flushdb()
