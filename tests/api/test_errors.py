"""The error envelope for every kind of refusal."""

from __future__ import annotations

from django.test import RequestFactory

from config.api.errors import handler500
from curation.models import Artwork, ReviewTask
from tests.factories import review_task_create


def test_unknown_api_url_is_404_in_the_envelope(db, client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No such resource.", "fields": {}}}


def test_missing_objects_are_404_in_the_envelope(role_users, client_for):
    curator = client_for("curator")
    assert curator.get("/api/v1/artworks/999999/").json() == {
        "error": {"code": "not_found", "message": "No artwork with this id.", "fields": {}}
    }
    response = curator.get("/api/v1/artworks/999999/predictions/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_bad_filter_is_400(role_users, client_for):
    response = client_for("curator").get("/api/v1/artworks/?confidence_min=lots")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid_filter",
            "message": "Minimum confidence must be a number between 0 and 1.",
            "fields": {},
        }
    }


def test_invalid_decision_is_a_field_error_and_changes_nothing(role_users, client_for):
    task = review_task_create()
    response = client_for("reviewer").post(f"/api/v1/reviews/{task.pk}/resolve/", {"decision": "maybe"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "The request is not valid; see the fields for what to fix.",
            "fields": {"decision": ['"maybe" is not a valid choice.']},
        }
    }
    task.refresh_from_db()
    assert (task.status, task.claimed_by) == (ReviewTask.Status.OPEN, None)


def test_corrected_without_style_is_refused_by_the_service(role_users, client_for):
    task = review_task_create()
    response = client_for("reviewer").post(
        f"/api/v1/reviews/{task.pk}/resolve/", {"decision": "corrected"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid_style",
            "message": "A correction needs the style the painting belongs to.",
            "fields": {},
        }
    }
    assert Artwork.objects.get(pk=task.artwork_id).status == Artwork.Status.NEEDS_REVIEW


def test_wrong_method_is_405_in_the_envelope(role_users, client_for):
    response = client_for("curator").delete("/api/v1/artworks/")
    assert response.status_code == 405
    assert response.json() == {
        "error": {"code": "method_not_allowed", "message": 'Method "DELETE" not allowed.', "fields": {}}
    }


def test_server_errors_under_api_are_json(db):
    factory = RequestFactory()
    api = handler500(factory.get("/api/v1/artworks/"))
    assert api.status_code == 500
    assert api["Content-Type"] == "application/json"
    assert api.content == (
        b'{"error": {"code": "server_error", "message": "The server failed to answer this request; it has been '
        b'logged.", "fields": {}}}'
    )
    page = handler500(factory.get("/gallery/"))
    assert page.status_code == 500
    assert page["Content-Type"] == "text/html; charset=utf-8"
