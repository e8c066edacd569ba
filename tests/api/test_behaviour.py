"""Uploads with per-file reports, the error envelope, pagination, conditional GETs, tokens."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from PIL import Image
from rest_framework.authtoken.models import Token

from config.api.errors import handler500
from curation.models import Artwork, ReviewTask
from tests.factories import ArtworkFactory, UserFactory, review_task_create, sample_image

# A dev-sample image larger than the 320 px thumbnail.
LARGER_IMAGE = 250


def _upload_file(index: int) -> SimpleUploadedFile:
    path, _ = sample_image(index)
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")


def _gif_named_jpg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (200, 10, 10)).save(buffer, format="GIF")
    return SimpleUploadedFile("painting.jpg", buffer.getvalue(), content_type="image/jpeg")


def _media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


# --- Uploads ----------------------------------------------------------------------------------------------------


def test_multi_file_upload_reports_each_file(role_users, client_for, settings, sample_dir):
    curator = client_for("curator")
    existing = ArtworkFactory(image_index=1)
    response = curator.post(
        "/api/v1/artworks/",
        {"file": [_upload_file(0), _upload_file(1), _gif_named_jpg()], "title": "Batch", "year": 1888},
        format="multipart",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (1, 1, 1)
    outcomes = [(r["filename"], r["outcome"]) for r in body["results"]]
    assert outcomes == [
        (sample_image(0)[0].name, "accepted"),
        (sample_image(1)[0].name, "duplicate"),
        ("painting.jpg", "rejected"),
    ]
    created = Artwork.objects.exclude(pk=existing.pk).get()
    assert body["results"][0]["artwork"]["id"] == created.pk
    assert (created.title, created.year, created.uploaded_by) == ("Batch", 1888, role_users["curator"])
    assert body["results"][1]["artwork"]["id"] == existing.pk
    assert body["results"][2]["artwork"] is None
    assert body["results"][2]["error"] == {
        "code": "unsupported_format",
        "message": "This is not a JPEG, PNG or WebP image (the file's content was checked).",
    }
    assert Artwork.objects.count() == 2


def test_upload_where_every_file_is_rejected_is_400_and_stores_nothing(role_users, client_for, settings):
    response = client_for("curator").post("/api/v1/artworks/", {"file": [_gif_named_jpg()]}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "unsupported_format",
            "message": "This is not a JPEG, PNG or WebP image (the file's content was checked).",
            "fields": {
                "file": ["painting.jpg: This is not a JPEG, PNG or WebP image (the file's content was checked)."]
            },
        }
    }
    assert Artwork.objects.count() == 0
    assert _media_files(settings) == []


def test_upload_without_files_is_a_field_error(role_users, client_for):
    response = client_for("curator").post("/api/v1/artworks/", {"title": "nothing"}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "The request is not valid; see the fields for what to fix.",
            "fields": {"file": ["This field is required."]},
        }
    }


def test_upload_as_json_is_415(role_users, client_for):
    response = client_for("curator").post("/api/v1/artworks/", {"file": "x"}, format="json")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


# --- Errors -----------------------------------------------------------------------------------------------------


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


# --- Pagination and conditional GETs ------------------------------------------------------------------------------


def test_pagination_is_stable_and_filters_apply(role_users, client_for, sample_dir):
    artworks = [ArtworkFactory(image_index=index, title=f"Work {index}") for index in range(3)]
    curator = client_for("curator")
    first = curator.get("/api/v1/artworks/?page_size=2&sort=oldest").json()
    second = curator.get("/api/v1/artworks/?page_size=2&sort=oldest&page=2").json()
    assert first["count"] == 3
    assert [item["id"] for item in first["results"] + second["results"]] == [a.pk for a in artworks]
    assert first["next"] == "http://testserver/api/v1/artworks/?page=2&page_size=2&sort=oldest"
    assert second["next"] is None
    searched = curator.get("/api/v1/artworks/?q=Work 1").json()
    assert [item["id"] for item in searched["results"]] == [artworks[1].pk]
    beyond = curator.get("/api/v1/artworks/?page=9")
    assert beyond.status_code == 404
    assert beyond.json()["error"]["code"] == "not_found"


def test_artwork_detail_etag_and_last_modified(role_users, client_for):
    task = review_task_create()
    curator = client_for("curator")
    response = curator.get(f"/api/v1/artworks/{task.artwork_id}/")
    assert response.status_code == 200
    etag = response["ETag"]
    body = response.json()
    assert body["review"]["status"] == "open"
    assert [entry["style"] for entry in body["latest_prediction"]["top3"]] == [
        "Impressionism",
        "Post_Impressionism",
        "Realism",
    ]

    not_modified = curator.get(f"/api/v1/artworks/{task.artwork_id}/", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    since = curator.get(f"/api/v1/artworks/{task.artwork_id}/", HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert since.status_code == 304

    resolved = client_for("reviewer").post(
        f"/api/v1/reviews/{task.pk}/resolve/", {"decision": "corrected", "style": "Baroque"}, format="json"
    )
    assert resolved.status_code == 200
    changed = curator.get(f"/api/v1/artworks/{task.artwork_id}/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["verified_style"] == "Baroque"
    assert changed.json()["review"] == {
        "task_id": task.pk,
        "status": "resolved",
        "decision": "corrected",
        "final_style": "Baroque",
        "resolved_at": changed.json()["review"]["resolved_at"],
    }


def test_image_downloads(role_users, client_for):
    artwork = ArtworkFactory(image_index=LARGER_IMAGE)
    curator = client_for("curator")
    original = curator.get(f"/api/v1/artworks/{artwork.pk}/image/", HTTP_ACCEPT="application/octet-stream")
    assert original.status_code == 200
    assert original["Content-Type"] == "application/octet-stream"
    assert original["X-Content-Type-Options"] == "nosniff"
    assert b"".join(original.streaming_content) == sample_image(LARGER_IMAGE)[0].read_bytes()
    thumbnail = curator.get(f"/api/v1/artworks/{artwork.pk}/thumbnail/", HTTP_ACCEPT="image/jpeg")
    assert thumbnail["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(thumbnail.streaming_content))) as image:
        assert (artwork.width, artwork.height) == (327, 500)
        assert image.size == (209, 320)
    again = curator.get(f"/api/v1/artworks/{artwork.pk}/thumbnail/", HTTP_IF_NONE_MATCH=thumbnail["ETag"])
    assert again.status_code == 304


# --- Tokens -------------------------------------------------------------------------------------------------------


def test_token_endpoint_returns_the_users_token(db, client):
    user = UserFactory(username="alice", roles=["curator"])
    response = client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": "correct horse battery staple"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=user).key}
    again = client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": "correct horse battery staple"}, format="json"
    )
    assert again.json() == response.json()
    wrong = client.post("/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    assert wrong.status_code == 400
    assert wrong.json()["error"] == {
        "code": "invalid_credentials",
        "message": "Unable to sign in with these credentials.",
        "fields": {},
    }
    assert Token.objects.count() == 1


def test_create_api_token_command(db, capsys):
    user = UserFactory(username="batch-script")
    call_command("create_api_token", "batch-script")
    key = capsys.readouterr().out.strip()
    assert key == Token.objects.get(user=user).key
    call_command("create_api_token", "batch-script")
    assert capsys.readouterr().out.strip() == key
    call_command("create_api_token", "batch-script", "--reset")
    new_key = capsys.readouterr().out.strip()
    assert new_key == Token.objects.get(user=user).key
    assert new_key != key
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("create_api_token", "ghost")
    assert Token.objects.count() == 1


def test_admin_action_creates_tokens(db, client):
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    users = [UserFactory(username="museum-db"), UserFactory(username="scanner")]
    client.force_login(admin_user)
    response = client.post(
        "/admin/auth/user/",
        {"action": "create_api_tokens", "_selected_action": [user.pk for user in users]},
        follow=True,
    )
    assert response.status_code == 200
    assert sorted(Token.objects.values_list("user__username", flat=True)) == ["museum-db", "scanner"]
    messages = [str(message) for message in response.context["messages"]]
    assert sorted(messages) == sorted(f"API token for {token.user}: {token.key}" for token in Token.objects.all())


# --- Training runs ------------------------------------------------------------------------------------------------


def test_training_start_queues_a_run_on_the_default_queue(role_users, client_for, django_capture_on_commit_callbacks):
    from classifier.models import TrainingRun
    from mltrain.tasks import run_training

    assert run_training.queue == "default"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for("ml_admin").post(
            "/api/v1/training-runs/", {"from_db": True, "models": ["simple_cnn"], "epochs": 1}, format="json"
        )
    assert response.status_code == 202
    assert len(callbacks) == 1
    run = TrainingRun.objects.get(pk=response.json()["id"])
    assert response.json()["status"] == "queued"
    assert run.started_by == role_users["ml_admin"]
    assert run.config == {
        "data": None,
        "from_db": True,
        "models": ["simple_cnn"],
        "preset": "",
        "epochs": 1,
        "device": "auto",
        "freeze_backbone": False,
        "split": "stratified",
        "pretrained": True,
        "activate_best": False,
    }
    # The task ran (in-process here): with no verified labels in the database the worker records why it failed.
    run.refresh_from_db()
    assert (run.status, run.error) == (
        TrainingRun.Status.FAILED,
        "No labelled images: the folder is empty and no artwork has a verified style",
    )


def test_training_start_refuses_bad_options_and_creates_nothing(role_users, client_for):
    from classifier.models import TrainingRun

    admin = client_for("ml_admin")
    response = admin.post("/api/v1/training-runs/", {"models": ["simple_cnn"]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"non_field_errors": ["Give a data folder, or from_db=true, or both."]}
    response = admin.post("/api/v1/training-runs/", {"data": "/no/such/folder"}, format="json")
    assert response.json()["error"]["fields"] == {"data": ["No such folder on the server."]}
    response = admin.post("/api/v1/training-runs/", {"from_db": True, "models": ["alexnet"]}, format="json")
    assert response.json()["error"]["fields"] == {"models.0": ['"alexnet" is not a valid choice.']}
    assert TrainingRun.objects.count() == 0


# --- Review queue and stats ---------------------------------------------------------------------------------------


def test_review_queue_over_the_api(role_users, client_for):
    task = review_task_create(confidence=0.3, image_index=2)
    rita = client_for("reviewer")

    claimed = rita.post("/api/v1/reviews/claim/")
    assert claimed.status_code == 200
    assert (claimed.json()["id"], claimed.json()["status"], claimed.json()["claimed_by"]) == (
        task.pk,
        "claimed",
        "reviewer",
    )
    assert claimed.json()["top3"] == [{"style": e["style"], "prob": e["prob"]} for e in task.prediction.top3]
    assert claimed.json()["top3"][0] == {"style": "Impressionism", "prob": 0.3}

    skipped = rita.post(f"/api/v1/reviews/{task.pk}/skip/")
    assert (skipped.status_code, skipped.json()["status"], skipped.json()["claimed_by"]) == (200, "open", None)
    # The skipper is not offered it again: nothing left for them.
    nothing = rita.post("/api/v1/reviews/claim/")
    assert (nothing.status_code, nothing.content) == (204, b"")
    assert rita.post("/api/v1/reviews/undo/").json()["error"] == {
        "code": "nothing_to_undo",
        "message": "You have no decision to undo.",
        "fields": {},
    }

    # Resolving an open task claims it on the way; undo gives it back to the reviewer.
    resolved = rita.post(f"/api/v1/reviews/{task.pk}/resolve/", {"decision": "not_in_taxonomy"}, format="json")
    assert (resolved.json()["status"], resolved.json()["decision"], resolved.json()["final_style"]) == (
        "resolved",
        "not_in_taxonomy",
        None,
    )
    again = rita.post(f"/api/v1/reviews/{task.pk}/resolve/", {"decision": "accepted"}, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "not_claimable")
    undone = rita.post("/api/v1/reviews/undo/")
    assert (undone.json()["id"], undone.json()["status"], undone.json()["claimed_by"]) == (
        task.pk,
        "claimed",
        "reviewer",
    )
    released = rita.post(f"/api/v1/reviews/{task.pk}/release/")
    assert (released.json()["status"], released.json()["claimed_by"]) == ("open", None)
    assert Artwork.objects.get(pk=task.artwork_id).status == Artwork.Status.NEEDS_REVIEW


def test_stats_reports_the_overview_figures(role_users, client_for):
    review_task_create(confidence=0.35, image_index=8)
    ArtworkFactory(image_index=9)
    stats = client_for("curator").get("/api/v1/stats/").json()
    assert stats["total_artworks"] == 2
    assert stats["status_counts"] == {"pending": 1, "classified": 0, "needs_review": 1, "reviewed": 0, "failed": 0}
    assert (stats["queue"]["depth"], stats["queue"]["claimed"]) == (1, 0)
    assert stats["predictions_last_hour"] == 1
    assert [row["count"] for row in stats["confidence_histogram"]] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert stats["active_model"] is None
    assert len(stats["style_counts"]) == 27


def test_too_many_files_in_one_request_is_400_in_the_envelope(role_users, client_for, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [_upload_file(index) for index in range(3)]
    response = client_for("curator").post("/api/v1/artworks/", {"file": files}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "bad_request", "message": "The request is malformed.", "fields": {}}}
    assert Artwork.objects.count() == 0


def test_superuser_may_do_everything(db, client_for):
    from classifier.models import ModelVersion
    from tests.factories import ModelVersionFactory

    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    token = Token.objects.create(user=root)
    client = client_for("anonymous")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    version = ModelVersionFactory(name="root-version")
    task = review_task_create(image_index=3)
    assert client.post(f"/api/v1/models/{version.pk}/activate/", {}, format="json").status_code == 200
    assert client.post("/api/v1/reviews/claim/").json()["id"] == task.pk
    assert client.get("/api/v1/training-runs/").status_code == 200
    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE) == version


def test_lists_use_a_constant_number_of_queries(role_users, client_for, django_assert_num_queries):
    reviewer = client_for("reviewer")
    review_task_create(image_index=10)
    # token + user, the user's and the groups' permissions, count, page: nothing per row
    with django_assert_num_queries(5):
        assert reviewer.get("/api/v1/artworks/").json()["count"] == 1
    with django_assert_num_queries(5):
        assert reviewer.get("/api/v1/reviews/").json()["count"] == 1
    for index in range(11, 14):
        review_task_create(image_index=index)
    with django_assert_num_queries(5):
        assert reviewer.get("/api/v1/artworks/").json()["count"] == 4
    with django_assert_num_queries(5):
        assert reviewer.get("/api/v1/reviews/").json()["count"] == 4
