"""Throttling: anonymous 100/hour (the prototype's promise), a configurable user rate, a separate upload budget.

The throttles' clock is pinned so that ``Retry-After`` has an exact value; the counters live in the cache, which
the suite's autouse fixture clears around every test (Redis when REDIS_URL is set, as in CI).
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from config.api import throttling
from curation.models import Artwork
from tests.factories import sample_image

HOUR = 3600
START = 1_800_000_000.0


@pytest.fixture
def clock(monkeypatch):
    """A settable clock for every throttle class (DRF reads ``self.timer()``)."""
    now = {"t": START}
    for throttle in (throttling.AnonThrottle, throttling.UserThrottle, throttling.UploadThrottle):
        monkeypatch.setattr(throttle, "timer", staticmethod(lambda: now["t"]))
    return now


def test_the_101st_anonymous_request_in_an_hour_gets_429_with_retry_after(db, client, clock):
    statuses = [client.post("/predict", {}).status_code for _ in range(100)]
    assert statuses == [400] * 100  # no file: refused by the view, but counted

    clock["t"] = START + 10
    response = client.post("/predict", {})
    assert response.status_code == 429
    assert response["Retry-After"] == str(HOUR - 10)
    assert response.json() == {
        "error": {
            "code": "throttled",
            "message": f"Request was throttled. Expected available in {HOUR - 10} seconds.",
            "fields": {},
        }
    }

    # The budget is per client, across endpoints: the token endpoint is closed to this client too.
    assert client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}).status_code == 429

    # An hour after the first request the window has moved on.
    clock["t"] = START + HOUR + 1
    assert client.post("/predict", {}).status_code == 400


def test_user_rate_is_configurable(role_users, client_for, clock, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "3/hour"},
    }
    curator = client_for("curator")
    statuses = [curator.get("/api/v1/styles/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert curator.get("/api/v1/styles/")["Retry-After"] == str(HOUR)
    # Another user has their own budget.
    assert client_for("reviewer").get("/api/v1/styles/").status_code == 200


def test_uploads_have_their_own_budget(role_users, client_for, clock, settings, sample_dir):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "uploads": "2/hour"},
    }
    curator = client_for("curator")
    statuses = []
    for index in range(3):
        path, _ = sample_image(index)
        upload = SimpleUploadedFile(path.name, path.read_bytes())
        statuses.append(curator.post("/api/v1/artworks/", {"file": [upload]}, format="multipart").status_code)
    assert statuses == [201, 201, 429]
    assert Artwork.objects.count() == 2
    # Reads are not counted against the upload budget.
    assert curator.get("/api/v1/artworks/").status_code == 200
