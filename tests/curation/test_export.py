"""Streamed CSV / JSON export: exact rows, label provenance, gallery filters, spreadsheet-safe cells."""

import csv
import io
import json

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from curation.models import Artwork, Style
from curation.selectors import artwork_list
from curation.services.export import EXPORT_COLUMNS, artwork_export_csv, artwork_export_json
from curation.services.review import review_resolve
from tests.factories import (
    ArtworkFactory,
    ModelVersionFactory,
    PredictionFactory,
    UserFactory,
    review_task_create,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def collection():
    """Four artworks, one per label provenance: reviewer, dataset, model (auto-accepted), none (in review)."""
    reviewer = UserFactory(username="rita", roles=["reviewer"])
    reviewed = review_task_create(confidence=0.3, predicted_style="Baroque", title="Reviewed one", artist="A")
    review_resolve(task=reviewed, reviewer=reviewer, decision="corrected", style=Style.objects.get(code="Rococo"))
    dataset = ArtworkFactory(title='=HYPERLINK("http://evil")', dataset_style=Style.objects.get(code="Realism"))
    auto = ArtworkFactory(title="Auto", artist="B")
    cubism = Style.objects.get(code="Cubism")
    prediction = PredictionFactory(
        artwork=auto, model_version=ModelVersionFactory(name="review-model"), predicted_style=cubism, confidence=0.9
    )
    # What routing does with a confident prediction: auto-accepted, no review task.
    Artwork.objects.filter(pk=auto.pk).update(
        latest_prediction=prediction, predicted_style=cubism, confidence=0.9, status="classified"
    )
    waiting = review_task_create(confidence=0.2, predicted_style="Pop_Art", title="Waiting", artist="C")
    return {
        "reviewed": reviewed.artwork_id,
        "dataset": dataset.pk,
        "auto": auto.pk,
        "waiting": waiting.artwork_id,
    }


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_every_artwork_with_its_label_provenance(collection):
    text = "".join(artwork_export_csv(artworks=artwork_list(sort="oldest")))

    rows = _csv_rows(text)
    assert text.splitlines()[0] == ",".join(EXPORT_COLUMNS)
    assert [(row["id"], row["label"], row["label_provenance"]) for row in rows] == [
        (str(collection["reviewed"]), "Rococo", "reviewer"),
        (str(collection["dataset"]), "Realism", "dataset"),
        (str(collection["auto"]), "Cubism", "model"),
        (str(collection["waiting"]), "", "none"),
    ]
    reviewed = rows[0]
    assert (reviewed["predicted_style"], reviewed["confidence"], reviewed["model_version"]) == (
        "Baroque",
        "0.3",
        "review-model",
    )
    assert (reviewed["verified_style"], reviewed["label_source"], reviewed["status"]) == (
        "Rococo",
        "reviewer",
        "reviewed",
    )
    # A title that a spreadsheet would run as a formula is kept as text.
    assert rows[1]["title"] == '\'=HYPERLINK("http://evil")'


def test_json_matches_the_csv_rows(collection):
    payload = json.loads("".join(artwork_export_json(artworks=artwork_list(sort="oldest"))))

    assert [(row["id"], row["label"], row["label_provenance"]) for row in payload] == [
        (collection["reviewed"], "Rococo", "reviewer"),
        (collection["dataset"], "Realism", "dataset"),
        (collection["auto"], "Cubism", "model"),
        (collection["waiting"], "", "none"),
    ]
    assert list(payload[0]) == list(EXPORT_COLUMNS)
    assert payload[1]["title"] == '=HYPERLINK("http://evil")'
    assert payload[3]["confidence"] == 0.2


def test_json_of_nothing_is_an_empty_array():
    assert json.loads("".join(artwork_export_json(artworks=Artwork.objects.none()))) == []


def test_download_is_streamed_and_filtered_like_the_gallery(client, collection):
    client.force_login(UserFactory(username="cora", roles=["curator"]))

    response = client.get(reverse("export-download", args=["csv"]), {"label_source": "reviewer"})

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="atelier-artworks-')
    rows = _csv_rows(b"".join(response.streaming_content).decode())
    assert [row["id"] for row in rows] == [str(collection["reviewed"])]

    response = client.get(reverse("export-download", args=["json"]), {"confidence_max": "0.25"})
    assert [row["id"] for row in json.loads(b"".join(response.streaming_content))] == [collection["waiting"]]


def test_download_refuses_bad_filters_and_other_roles(client, collection):
    client.force_login(UserFactory(username="cora", roles=["curator"]))
    response = client.get(reverse("export-download", args=["csv"]), {"status": "sideways"})
    assert (response.status_code, response.content.decode()) == (400, "Unknown status 'sideways'.")
    assert client.get(reverse("export-download", args=["xml"])).status_code == 404

    client.force_login(UserFactory(username="rita2", roles=["reviewer"]))
    assert client.get(reverse("export-download", args=["csv"])).status_code == 403
