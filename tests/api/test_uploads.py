"""Uploads: per-file reports, refusals that store nothing, request limits."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from curation.models import Artwork
from tests.factories import ArtworkFactory, sample_image

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


def test_too_many_files_in_one_request_is_400_in_the_envelope(role_users, client_for, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [_upload_file(index) for index in range(3)]
    response = client_for("curator").post("/api/v1/artworks/", {"file": files}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "bad_request", "message": "The request is malformed.", "fields": {}}}
    assert Artwork.objects.count() == 0


def test_a_multi_file_upload_is_classified_as_one_batch(
    role_users, client_for, make_version, django_capture_on_commit_callbacks
):
    from classifier.models import Prediction

    version = make_version("batch-model")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for("curator").post(
            "/api/v1/artworks/", {"file": [_upload_file(index) for index in range(3)]}, format="multipart"
        )
    assert response.status_code == 201
    assert len(callbacks) == 1  # one classification request for the three new artworks
    predictions = Prediction.objects.filter(model_version=version)
    assert sorted(predictions.values_list("artwork_id", flat=True)) == sorted(
        result["artwork"]["id"] for result in response.json()["results"]
    )
    assert list(predictions.values_list("batch_size", flat=True)) == [3, 3, 3]
