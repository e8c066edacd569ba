"""Structured logs: one JSON object per line, request and task ids, no image bytes, no credentials."""

from __future__ import annotations

import json
import logging

import pytest

from config.logging import JsonFormatter, redact
from config.middleware import REQUEST_ID_RESPONSE_HEADER


def _record(msg, *args, **extra) -> logging.LogRecord:
    record = logging.LogRecord("atelier.test", logging.INFO, __file__, 10, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_formatter_writes_one_json_object_with_the_standard_fields():
    line = JsonFormatter().format(_record("stored artwork %s", 42, artwork_id=42))
    entry = json.loads(line)
    assert "\n" not in line
    assert set(entry) == {"time", "level", "logger", "message", "artwork_id"}
    assert entry["level"] == "INFO"
    assert entry["logger"] == "atelier.test"
    assert entry["message"] == "stored artwork 42"
    assert entry["artwork_id"] == 42


def test_image_bytes_never_reach_the_log(sample_dir):
    image_bytes = next(sample_dir.glob("Impressionism/*")).read_bytes()
    entry = json.loads(JsonFormatter().format(_record("upload body %s", image_bytes, payload=image_bytes)))
    assert entry["message"] == f"upload body <{len(image_bytes)} bytes>"
    assert entry["payload"] == f"<{len(image_bytes)} bytes>"


def test_credentials_are_masked():
    assert redact("password=hunter2 next") == "password=*** next"
    assert redact("Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b") == "Authorization: ***"
    assert redact("broker postgres://atelier:s3cret@db:5432/atelier") == "broker postgres://atelier:***@db:5432/atelier"
    entry = json.loads(JsonFormatter().format(_record("login with %s", "password=hunter2")))
    assert entry["message"] == "login with password=***"


def test_long_messages_are_cut():
    entry = json.loads(JsonFormatter().format(_record("x" * 5000)))
    assert entry["message"] == "x" * 4000 + "… (1000 more characters cut)"


@pytest.mark.django_db
def test_request_id_is_taken_from_the_proxy_returned_and_logged(client, caplog):
    caplog.set_level(logging.INFO, logger="atelier.access")
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-1234abcd")
    assert response[REQUEST_ID_RESPONSE_HEADER] == "req-1234abcd"
    [record] = [r for r in caplog.records if r.name == "atelier.access"]
    entry = json.loads(JsonFormatter().format(record))
    assert entry["request_id"] == "req-1234abcd"
    assert entry["status"] == 404
    assert entry["path"] == "/no-such-page/"
    assert entry["method"] == "GET"
    assert entry["user_id"] is None


@pytest.mark.django_db
def test_a_malformed_incoming_request_id_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="evil\nid with spaces")
    assert response.status_code == 200
    assert response[REQUEST_ID_RESPONSE_HEADER] != "evil\nid with spaces"
    assert len(response[REQUEST_ID_RESPONSE_HEADER]) == 32
    int(response[REQUEST_ID_RESPONSE_HEADER], 16)


@pytest.mark.django_db
def test_celery_task_logs_carry_the_task_id(caplog, settings, tmp_path):
    from config.housekeeping_tasks import housekeeping

    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    caplog.set_level(logging.INFO, logger="curation.services.housekeeping")
    result = housekeeping.delay()
    [record] = [r for r in caplog.records if r.name == "curation.services.housekeeping"]
    entry = json.loads(JsonFormatter().format(record))
    assert entry["task_id"] == result.id
    assert entry["message"] == "housekeeping removed 0 orphan media files and 0 stale uploads (0 bytes)"
