"""A request whose database connection breaks is run again once the database answers (reads and idempotent
uploads), and is otherwise answered 503 with Retry-After, never 500. The connection is really terminated by
PostgreSQL (pg_terminate_backend), nothing is simulated."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from tests.ops import outage_urls

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def outage_site(require_postgres, settings, client):
    # As a real server: the first attempt's exception is handled by the middleware, not raised into the test.
    client.raise_request_exception = False
    settings.ROOT_URLCONF = "tests.ops.outage_urls"
    settings.ATELIER = {**settings.ATELIER, "DB_OUTAGE_RETRY_PATHS": ["/outage/write/"]}
    outage_urls.CALLS.clear()
    yield
    outage_urls.CALLS.clear()


def test_a_read_is_run_again_on_a_fresh_connection(client, outage_site):
    UserFactory(username="outage-reader")
    response = client.get("/outage/read/")
    assert response.status_code == 200
    assert response.json() == {"users": 1, "calls": 2}


def test_an_allowed_upload_path_is_run_again(client, outage_site):
    response = client.post("/outage/write/")
    assert response.status_code == 200
    assert response.json() == {"users": 0, "calls": 2}


def test_other_writes_get_503_with_retry_after_and_run_once(client, outage_site, settings):
    settings.ATELIER = {**settings.ATELIER, "DB_OUTAGE_RETRY_PATHS": []}
    response = client.post("/outage/write/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "error": {"code": "database_unavailable", "message": "The database is unavailable; try again shortly."}
    }
    assert outage_urls.CALLS == {"/outage/write/": 1}
