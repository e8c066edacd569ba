"""Shared fixtures: real sample images, isolated media, and service availability.

Tests that need PostgreSQL or Redis skip with a reason on a laptop without them; with ATELIER_REQUIRE_SERVICES=1
(set by .ci/run) they fail instead.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from django.conf import settings

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = Path(os.environ.get("SAMPLE_DIR", REPO_ROOT.parent / "shared" / "wikiart" / "dev_sample"))
REQUIRE_SERVICES = os.environ.get("ATELIER_REQUIRE_SERVICES") == "1"


def _missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (ATELIER_REQUIRE_SERVICES=1: services are required here)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield


def _is_transactional(item: pytest.Item) -> bool:
    """The same test as pytest-django's ordering: transactional tests run after all others."""
    marker = item.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests start with what the migrations put in the database.

    Their teardown flushes every table, including the 27 styles and the role groups that the data migration
    created, so each one restores them (idempotently) instead of relying on ``serialized_rollback``, which cannot
    restore them where Playwright gives the test its own database connection.
    """
    if _is_transactional(request.node):
        request.getfixturevalue("transactional_db")
        from tests.factories import reference_data_restore

        reference_data_restore()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: API throttle counters (anonymous 100/hour) and login rate limits
    would otherwise add up across the whole session and refuse requests in unrelated tests."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    if not SAMPLE_DIR.is_dir():
        _missing(f"WikiArt dev sample not found at {SAMPLE_DIR}")
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def sample_labels(sample_dir) -> list[dict[str, str]]:
    with open(sample_dir / "labels.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def require_postgres(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        _missing("needs PostgreSQL: set DATABASE_URL=postgres://…")


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = settings.CELERY_BROKER_URL or os.environ.get("REDIS_URL", "")
    if not url.startswith("redis://"):
        _missing("needs Redis: set CELERY_BROKER_URL=redis://…")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _missing(f"Redis at {url} is not reachable: {exc}")
    return url
