"""Reads: pagination with a stable order, filters, conditional GETs, downloads, query counts."""

from __future__ import annotations

import io

from PIL import Image

from tests.factories import ArtworkFactory, review_task_create, sample_image

# A dev-sample image larger than the 320 px thumbnail.
LARGER_IMAGE = 250


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
