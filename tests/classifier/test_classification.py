"""Classification through the real ingest → on_commit → task → engine → routing path (tasks run in-process)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from classifier.engine.runtime import active_engine
from classifier.models import ModelVersion, ModelVersionEvent, Prediction
from classifier.selectors import model_loading_problems
from classifier.services.inference import artworks_classify, pending_artworks_requeue
from curation.models import Artwork, ReviewEvent, ReviewTask, Style
from curation.services.ingest import artwork_ingest
from tests.factories import ArtworkFactory, sample_image

pytestmark = pytest.mark.django_db


def upload(index: int, capture) -> Artwork:
    path, _ = sample_image(index)
    with capture(execute=True), open(path, "rb") as handle:
        return artwork_ingest(file=handle, filename=path.name).artwork


def _confidences(count: int) -> list[float]:
    """What the active engine says about the first ``count`` sample images (the same engine the task uses)."""
    engine = active_engine().engine
    return [result.confidence for result in engine.predict([sample_image(i)[0] for i in range(count)])]


def test_uploads_get_one_prediction_each_routed_by_the_threshold(
    make_version, settings, django_capture_on_commit_callbacks
):
    version = make_version("v1", temperature=0.5)
    confidences = _confidences(6)
    ranked = sorted(confidences)
    threshold = (ranked[2] + ranked[3]) / 2  # the three least confident go to review
    settings.ATELIER = {**settings.ATELIER, "REVIEW_THRESHOLD": threshold}

    artworks = [upload(index, django_capture_on_commit_callbacks) for index in range(6)]

    assert Prediction.objects.count() == 6
    for artwork, confidence in zip(artworks, confidences, strict=True):
        artwork.refresh_from_db()
        prediction = Prediction.objects.get(artwork=artwork)
        assert prediction.model_version == version
        assert prediction.confidence == pytest.approx(confidence, abs=1e-6)
        assert artwork.latest_prediction == prediction
        assert artwork.predicted_style == prediction.predicted_style
        assert artwork.confidence == prediction.confidence
        assert artwork.verified_style is None
        assert prediction.top3[0]["style"] == prediction.predicted_style.code
        assert len(prediction.top3) == 3
        expected = Artwork.Status.NEEDS_REVIEW if confidence < threshold else Artwork.Status.CLASSIFIED
        assert artwork.status == expected
    reviewed = [a for a, c in zip(artworks, confidences, strict=True) if c < threshold]
    assert len(reviewed) == 3
    tasks = ReviewTask.objects.order_by("priority")
    assert [task.artwork_id for task in tasks] == [
        a.pk for a, _ in sorted(zip(artworks, confidences, strict=True), key=lambda pair: pair[1])[:3]
    ]
    assert [task.priority for task in tasks] == [task.prediction.confidence for task in tasks]
    assert list(ReviewEvent.objects.values_list("action", flat=True)) == ["opened"] * 3


def test_a_redelivered_task_changes_nothing(make_version, django_capture_on_commit_callbacks):
    make_version("v1")
    artworks = [upload(index, django_capture_on_commit_callbacks) for index in range(3)]
    before = list(Prediction.objects.order_by("pk").values_list("pk", "artwork_id", "confidence"))
    statuses = list(Artwork.objects.order_by("pk").values_list("status", "updated_at"))

    report = artworks_classify(artwork_ids=[artwork.pk for artwork in artworks])

    assert report.predicted == []
    assert report.skipped == [artwork.pk for artwork in artworks]
    assert list(Prediction.objects.order_by("pk").values_list("pk", "artwork_id", "confidence")) == before
    assert list(Artwork.objects.order_by("pk").values_list("status", "updated_at")) == statuses


def test_per_style_override_beats_the_deployment_and_version_thresholds(
    make_version, settings, django_capture_on_commit_callbacks
):
    make_version("v1", review_threshold=1.0)  # the version alone would send everything to review
    settings.ATELIER = {**settings.ATELIER, "REVIEW_THRESHOLD": None}
    engine = active_engine().engine
    first = engine.predict([sample_image(0)[0]])[0]
    Style.objects.filter(code=first.predicted_class).update(review_threshold=0.0)

    auto = upload(0, django_capture_on_commit_callbacks)
    auto.refresh_from_db()
    assert auto.status == Artwork.Status.CLASSIFIED
    assert auto.predicted_style.code == first.predicted_class
    assert ReviewTask.objects.count() == 0

    Style.objects.filter(code=first.predicted_class).update(review_threshold=None)
    settings.ATELIER = {**settings.ATELIER, "REVIEW_THRESHOLD": 0.0}
    other = upload(1, django_capture_on_commit_callbacks)
    other.refresh_from_db()
    assert other.status == Artwork.Status.CLASSIFIED
    assert ReviewTask.objects.count() == 0


def test_a_corrupt_file_fails_with_a_reason_and_the_others_are_predicted(make_version):
    make_version("v1", review_threshold=0.0)
    artworks = [ArtworkFactory(image_index=index) for index in range(3)]
    with default_storage.open(artworks[1].original.name, "wb") as handle:
        handle.write(b"\xff\xd8\xff\xe0 broken behind the ingest's back")

    report = artworks_classify(artwork_ids=[artwork.pk for artwork in artworks])

    assert report.predicted == [artworks[0].pk, artworks[2].pk]
    assert report.failed == [artworks[1].pk]
    broken = Artwork.objects.get(pk=artworks[1].pk)
    assert broken.status == Artwork.Status.FAILED
    assert broken.failure_reason.startswith("The image could not be decoded:")
    assert broken.predictions.count() == 0
    assert sorted(Artwork.objects.exclude(pk=broken.pk).values_list("status", flat=True)) == ["classified"] * 2


def test_activating_another_version_switches_and_updates_the_open_task(
    make_version, django_capture_on_commit_callbacks
):
    first = make_version("v1", review_threshold=1.0)
    artwork = upload(0, django_capture_on_commit_callbacks)
    task = ReviewTask.objects.get(artwork=artwork)
    assert task.prediction.model_version == first

    second = make_version("v2", which="b", review_threshold=1.0)
    report = artworks_classify(artwork_ids=[artwork.pk])

    assert report.model_version == second
    assert report.predicted == [artwork.pk]
    newest = Prediction.objects.get(artwork=artwork, model_version=second)
    artwork.refresh_from_db()
    task.refresh_from_db()
    assert ReviewTask.objects.filter(artwork=artwork).count() == 1
    assert task.prediction == newest
    assert task.priority == newest.confidence
    assert artwork.latest_prediction == newest
    assert artwork.status == Artwork.Status.NEEDS_REVIEW
    assert list(ReviewEvent.objects.filter(task=task).order_by("pk").values_list("action", flat=True)) == [
        "opened",
        "updated",
    ]
    assert Prediction.objects.filter(artwork=artwork).count() == 2


def test_a_new_prediction_never_overrides_a_human_decision(make_version, django_capture_on_commit_callbacks):
    make_version("v1", review_threshold=0.0)
    artwork = upload(0, django_capture_on_commit_callbacks)
    impressionism = Style.objects.get(code="Impressionism")
    Artwork.objects.filter(pk=artwork.pk).update(
        status=Artwork.Status.REVIEWED, verified_style=impressionism, label_source=Artwork.LabelSource.REVIEWER
    )
    before = Artwork.objects.filter(pk=artwork.pk).values().get()

    second = make_version("v2", which="b", review_threshold=1.0)
    report = artworks_classify(artwork_ids=[artwork.pk])

    assert report.predicted == [artwork.pk]
    assert Prediction.objects.filter(artwork=artwork, model_version=second).count() == 1
    assert Artwork.objects.filter(pk=artwork.pk).values().get() == before
    assert ReviewTask.objects.count() == 0


def test_a_tampered_checkpoint_is_refused_and_the_previous_version_serves(make_version):
    first = make_version("v1")
    second = make_version("v2", which="b")
    with open(second.checkpoint_path, "r+b") as handle:
        handle.seek(-10, 2)
        handle.write(b"0123456789")
    artwork = ArtworkFactory(image_index=0)

    report = artworks_classify(artwork_ids=[artwork.pk])

    assert report.model_version == first
    assert Prediction.objects.get(artwork=artwork).model_version == first
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.status == ModelVersion.Status.REFUSED
    assert second.refused_reason.startswith("checkpoint sha256 mismatch: file has ")
    assert first.status == ModelVersion.Status.ACTIVE
    assert list(model_loading_problems()) == [second]
    assert list(ModelVersionEvent.objects.order_by("pk").values_list("model_version__name", "action")) == [
        ("v1", "registered"),
        ("v1", "activated"),
        ("v2", "registered"),
        ("v2", "activated"),
        ("v2", "refused"),
        ("v1", "activated"),
    ]


def test_a_missing_checkpoint_with_no_good_version_left_keeps_artworks_pending(make_version):
    only = make_version("v1")
    artwork = ArtworkFactory(image_index=0)
    os.remove(only.checkpoint_path)
    report = artworks_classify(artwork_ids=[artwork.pk])

    assert report.model_version is None
    assert report.skipped == [artwork.pk]
    only.refresh_from_db()
    assert only.status == ModelVersion.Status.REFUSED
    assert only.refused_reason == f"checkpoint file is missing: {only.checkpoint_path}"
    assert Artwork.objects.get(pk=artwork.pk).status == Artwork.Status.PENDING
    assert Prediction.objects.count() == 0


def test_the_sweep_requeues_only_old_pending_artworks(make_version, django_capture_on_commit_callbacks):
    make_version("v1", review_threshold=0.0)
    old, recent = ArtworkFactory(image_index=0), ArtworkFactory(image_index=1)
    Artwork.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(minutes=10))

    with django_capture_on_commit_callbacks(execute=True):
        requeued = pending_artworks_requeue(older_than=timedelta(minutes=5))

    assert requeued == [old.pk]
    assert Artwork.objects.get(pk=old.pk).status == Artwork.Status.CLASSIFIED
    assert Artwork.objects.get(pk=recent.pk).status == Artwork.Status.PENDING


def test_the_sweep_waits_before_sending_the_same_artwork_again(make_version, django_capture_on_commit_callbacks):
    make_version("v1", review_threshold=0.0)
    artwork = ArtworkFactory(image_index=0)
    Artwork.objects.filter(pk=artwork.pk).update(updated_at=timezone.now() - timedelta(minutes=10))

    with django_capture_on_commit_callbacks(execute=False) as sent:
        first = pending_artworks_requeue(older_than=timedelta(minutes=5))
        second = pending_artworks_requeue(older_than=timedelta(minutes=5))

    assert (first, second) == ([artwork.pk], [])
    assert len(sent) == 1


def test_the_sweep_sends_nothing_without_an_active_version(django_capture_on_commit_callbacks):
    artwork = ArtworkFactory(image_index=0)
    Artwork.objects.filter(pk=artwork.pk).update(updated_at=timezone.now() - timedelta(minutes=10))

    with django_capture_on_commit_callbacks(execute=False) as sent:
        requeued = pending_artworks_requeue(older_than=timedelta(minutes=5))

    assert requeued == []
    assert sent == []
    assert Artwork.objects.get(pk=artwork.pk).status == Artwork.Status.PENDING


def test_reclassify_command_reruns_selected_artworks_with_the_active_version(
    make_version, django_capture_on_commit_callbacks, capsys
):
    make_version("v1", review_threshold=0.0)
    artworks = [upload(index, django_capture_on_commit_callbacks) for index in range(3)]
    Artwork.objects.filter(pk=artworks[2].pk).update(status=Artwork.Status.FAILED, failure_reason="was unreadable")
    second = make_version("v2", which="b", review_threshold=0.0)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("reclassify", "--model-version", "v1", "--status", "classified")

    assert sorted(Prediction.objects.filter(model_version=second).values_list("artwork_id", flat=True)) == sorted(
        a.pk for a in artworks[:2]
    )
    assert capsys.readouterr().out.strip() == "Queued 2 artworks for v2."
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reclassify", "--status", "failed")
    assert Prediction.objects.filter(model_version=second).count() == 3
    assert Artwork.objects.get(pk=artworks[2].pk).status == Artwork.Status.CLASSIFIED


def test_a_version_whose_classes_do_not_match_its_checkpoint_is_refused(make_version, lite0_checkpoints):
    from classifier.services.registry import model_version_activate, model_version_register
    from curation.styles import STYLE_CODES
    from mltrain.architectures import default_preprocessing

    first = make_version("v1")
    shuffled = model_version_register(
        name="v2-shuffled",
        architecture="efficientnet_lite0",
        checkpoint_path=lite0_checkpoints["b"],
        classes=list(reversed(STYLE_CODES)),
        preprocessing=default_preprocessing("efficientnet_lite0"),
    )
    model_version_activate(version=shuffled)
    artwork = ArtworkFactory(image_index=0)

    report = artworks_classify(artwork_ids=[artwork.pk])

    assert report.model_version == first
    shuffled.refresh_from_db()
    assert shuffled.status == ModelVersion.Status.REFUSED
    assert shuffled.refused_reason == "the checkpoint's class list differs from the version's"
