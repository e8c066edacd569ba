"""``POST /predict``: the prototype's response shape, a 400 for every refused file class, 503 without a model."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.contrib.auth.models import Permission
from PIL import Image

from classifier.engine.runtime import active_engine
from classifier.models import Prediction
from curation.models import Artwork
from curation.styles import STYLE_CODES
from mltrain.imaging import open_rgb
from tests.factories import UserFactory
from tests.images import encode, gradient, jpeg, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def painting(sample_dir, sample_labels) -> bytes:
    row = next(row for row in sample_labels if row["format"] == "JPEG" and int(row["width"]) >= 1000)
    return (sample_dir / row["file"]).read_bytes()


def _upload(client, data: bytes, name: str = "painting.jpg", **fields):
    handle = io.BytesIO(data)
    handle.name = name
    return client.post("/predict", {"file": handle, **fields})


def test_real_painting_gets_the_prototype_shape(client, make_version, painting):
    make_version("v1", temperature=1.5)
    response = _upload(client, painting)

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["predictions"]
    assert len(body["predictions"]) == 3
    assert [list(item) for item in body["predictions"]] == [["class", "prob"]] * 3
    engine = active_engine().engine
    expected = engine.predict_images([open_rgb(io.BytesIO(painting), min_side=engine.decode_min_side)])[0]
    assert [item["class"] for item in body["predictions"]] == [code for code, _ in expected.top3]
    assert [item["prob"] for item in body["predictions"]] == pytest.approx([p for _, p in expected.top3], abs=1e-6)
    assert all(item["class"] in STYLE_CODES for item in body["predictions"])
    assert Artwork.objects.count() == 0
    assert Prediction.objects.count() == 0


def _png_declaring(width: int, height: int) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


BAD_FILES = {
    "gif": (lambda: encode(gradient(), "GIF"), "unsupported_format"),
    "svg": (lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"></svg>', "unsupported_format"),
    "html_as_jpg": (lambda: b"<!doctype html><html><script>alert(1)</script></html>", "unsupported_format"),
    "tiff": (lambda: encode(gradient(), "TIFF"), "unsupported_format"),
    "bmp": (lambda: encode(gradient(), "BMP"), "unsupported_format"),
    "empty": (lambda: b"", "empty"),
    "truncated_jpeg": (lambda: jpeg((900, 700))[:3000], "corrupt"),
    "too_small": (lambda: png((120, 400)), "too_small"),
    "too_long": (lambda: _png_declaring(9000, 200), "too_big_dimensions"),
    "bomb": (lambda: _png_declaring(30000, 30000), "decompression_bomb"),
    "eleven_megabytes": (lambda: jpeg((320, 240)) + b"\0" * (11 * 1024 * 1024), "too_large"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_each_bad_file_class_is_a_clear_400(client, make_version, kind, settings):
    make_version("v1")
    make_bytes, code = BAD_FILES[kind]
    response = _upload(client, make_bytes(), name="upload.jpg")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert Artwork.objects.count() == 0


def test_missing_file_field_is_a_400(client, make_version):
    make_version("v1")
    response = client.post("/predict", {"image": io.BytesIO(jpeg())})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_file"


def test_without_an_active_model_it_is_503(client, make_version, painting):
    make_version("v1", activate=False)
    response = _upload(client, painting)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "no_active_model"


def test_save_needs_a_user_allowed_to_add_artworks(client, make_version, painting):
    make_version("v1")
    anonymous = _upload(client, painting, save="true")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"

    user = UserFactory()
    client.force_login(user)
    refused = _upload(client, painting, save="true")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert Artwork.objects.count() == 0


def test_save_ingests_the_artwork_with_its_prediction(
    client, make_version, painting, django_capture_on_commit_callbacks
):
    version = make_version("v1", review_threshold=0.0)
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="add_artwork"))
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, painting, save="true")

    assert response.status_code == 200
    body = response.json()
    artwork = Artwork.objects.get()
    assert body["artwork_id"] == artwork.pk
    prediction = Prediction.objects.get()
    assert prediction.artwork == artwork
    assert prediction.model_version == version
    assert [item["class"] for item in body["predictions"]] == [entry["style"] for entry in prediction.top3]
    assert artwork.status == Artwork.Status.CLASSIFIED
    assert artwork.uploaded_by == user
    assert artwork.latest_prediction == prediction


def test_predict_decodes_what_ingest_would_decode(client, make_version):
    make_version("v1")
    cmyk = encode(Image.new("CMYK", (400, 300), (10, 200, 30, 0)), "JPEG")
    response = _upload(client, cmyk)
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 3


def test_a_prediction_slower_than_the_timeout_is_a_503(client, make_version, painting, settings):
    make_version("v1")
    active_engine()  # loaded before the clock starts: the timeout covers the prediction only
    settings.ATELIER = {**settings.ATELIER, "PREDICT_TIMEOUT_SECONDS": 0.000001}
    response = _upload(client, painting)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "timeout"
