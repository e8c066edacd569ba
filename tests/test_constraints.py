"""The data model's invariants are enforced by the database itself, not only by Python."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from classifier.models import ModelVersion, Prediction
from curation.models import Artwork, ReviewTask, Style
from curation.services.ingest import artwork_ingest
from tests.images import png

pytestmark = pytest.mark.django_db


def model_version(name: str, **fields) -> ModelVersion:
    return ModelVersion.objects.create(
        name=name,
        architecture="efficientnet_lite0",
        checkpoint_path=f"/nonexistent/{name}.pt",
        checkpoint_sha256="0" * 64,
        classes=[style.code for style in Style.objects.all()],
        preprocessing={"input_size": [3, 224, 224], "mean": [0.5] * 3, "std": [0.5] * 3},
        **fields,
    )


def prediction(artwork: Artwork, version: ModelVersion) -> Prediction:
    baroque = Style.objects.get(code="Baroque")
    return Prediction.objects.create(
        artwork=artwork,
        model_version=version,
        predicted_style=baroque,
        top3=[{"style": "Baroque", "prob": 0.5}],
        confidence=0.5,
        entropy=1.0,
        latency_ms=10.0,
    )


def test_styles_are_the_27_artgan_classes_in_order():
    codes = list(Style.objects.values_list("code", flat=True))
    assert len(codes) == 27
    assert codes[:4] == ["Abstract_Expressionism", "Action_painting", "Analytical_Cubism", "Art_Nouveau_Modern"]
    assert codes[-1] == "Ukiyo_e"
    assert list(Style.objects.values_list("class_index", flat=True)) == list(range(27))


def test_duplicate_sha256_is_refused_by_the_database():
    artwork = artwork_ingest(file=png((300, 200))).artwork
    with pytest.raises(IntegrityError), transaction.atomic():
        Artwork.objects.create(
            original="originals/x.png",
            display_image="display/x.jpg",
            thumbnail="thumbnails/x.jpg",
            sha256=artwork.sha256,
            file_size=1,
            width=300,
            height=200,
            format="PNG",
        )
    assert Artwork.objects.count() == 1


def test_two_predictions_for_one_artwork_and_version_are_refused():
    artwork = artwork_ingest(file=png((300, 200))).artwork
    version = model_version("v1")
    prediction(artwork, version)
    with pytest.raises(IntegrityError), transaction.atomic():
        prediction(artwork, version)
    assert Prediction.objects.count() == 1


def test_two_open_review_tasks_for_one_artwork_are_refused():
    artwork = artwork_ingest(file=png((300, 200))).artwork
    first = prediction(artwork, model_version("v1"))
    ReviewTask.objects.create(artwork=artwork, prediction=first, priority=0.5)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewTask.objects.create(artwork=artwork, prediction=first, priority=0.4)
    assert ReviewTask.objects.count() == 1


def test_a_resolved_task_does_not_block_a_new_open_one():
    artwork = artwork_ingest(file=png((300, 200))).artwork
    first = prediction(artwork, model_version("v1"))
    baroque = Style.objects.get(code="Baroque")
    ReviewTask.objects.create(
        artwork=artwork,
        prediction=first,
        priority=0.5,
        status="resolved",
        decision="accepted",
        final_style=baroque,
        resolved_at="2026-01-01T00:00:00Z",
    )
    ReviewTask.objects.create(artwork=artwork, prediction=first, priority=0.4)
    assert ReviewTask.objects.filter(status="open").count() == 1


def test_two_active_model_versions_are_refused():
    model_version("v1", status="active")
    with pytest.raises(IntegrityError), transaction.atomic():
        model_version("v2", status="active")
    assert ModelVersion.objects.filter(status="active").count() == 1


def test_verified_style_and_label_source_must_agree():
    artwork = artwork_ingest(file=png((300, 200))).artwork
    with pytest.raises(IntegrityError), transaction.atomic():
        Artwork.objects.filter(pk=artwork.pk).update(label_source="reviewer")
    assert Artwork.objects.get(pk=artwork.pk).label_source == "none"
