"""The figures behind the overview and reviewer pages (shared with the API): exact values from known data."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from classifier.models import ModelVersion, Prediction, TrainingRun
from curation.models import Style
from curation.selectors import overview_stats, reviewer_stats
from curation.services.review import review_claim_next, review_resolve
from tests.factories import ArtworkFactory, ModelVersionFactory, PredictionFactory, UserFactory, review_task_create

pytestmark = pytest.mark.django_db


def test_overview_stats_from_known_predictions():
    version = ModelVersionFactory(
        name="active",
        status=ModelVersion.Status.ACTIVE,
        metrics={"accuracy": 0.7, "macro_f1": 0.64, "macro_f1_ci95": [0.6, 0.68], "ece": 0.03},
        review_threshold=0.55,
    )
    latencies = [10.0, 20.0, 30.0, 40.0, 50.0]
    confidences = [0.05, 0.15, 0.15, 0.55, 1.0]
    for latency, confidence in zip(latencies, confidences, strict=True):
        review_task_create(confidence=confidence, predicted_style="Baroque")
        Prediction.objects.filter(pk=Prediction.objects.latest("id").pk).update(latency_ms=latency)
    # A prediction older than 24 h counts for nothing in the last-24-h figures.
    old = PredictionFactory(artwork=ArtworkFactory(), model_version=version, latency_ms=999.0)
    Prediction.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=30))

    stats = overview_stats()

    assert stats["status_counts"] == {"pending": 1, "classified": 0, "needs_review": 5, "reviewed": 0, "failed": 0}
    assert stats["total_artworks"] == 6
    assert stats["queue"]["depth"] == 5
    assert stats["queue"]["claimed"] == 0
    assert stats["predictions_last_24h"] == 5
    assert stats["predictions_last_hour"] == 5
    assert sum(row["count"] for row in stats["predictions_per_hour"]) == 5
    assert len(stats["predictions_per_hour"]) == 24
    # Linear interpolation between ranks (PostgreSQL's percentile_cont): p95 of 10..50 is 48, p99 is 49.6.
    assert stats["latency_ms"] == {"p50": 30.0, "p95": pytest.approx(48.0), "p99": pytest.approx(49.6)}
    assert [row["count"] for row in stats["confidence_histogram"]] == [1, 2, 0, 0, 0, 1, 0, 0, 0, 1]
    baroque = next(row for row in stats["style_counts"] if row["code"] == "Baroque")
    assert (baroque["predicted"], baroque["verified"]) == (5, 0)
    assert len(stats["style_counts"]) == 27
    assert stats["active_model"] == {
        "id": version.pk,
        "name": "active",
        "architecture": "efficientnet_lite0",
        "activated_at": None,
        "review_threshold": 0.55,
        "temperature": 1.0,
        "accuracy": 0.7,
        "macro_f1": 0.64,
        "macro_f1_ci95": [0.6, 0.68],
        "ece": 0.03,
    }
    assert stats["model_problems"] == []


def test_overview_of_an_empty_collection():
    stats = overview_stats()

    assert stats["total_artworks"] == 0
    assert stats["latency_ms"] == {"p50": None, "p95": None, "p99": None}
    assert stats["queue"] == {"depth": 0, "claimed": 0, "oldest": None, "oldest_age_seconds": None}
    assert stats["active_model"] is None


def test_reviewer_stats_count_decisions_and_agreement_per_style():
    rita = UserFactory(username="rita", roles=["reviewer"])
    otto = UserFactory(username="otto", roles=["reviewer"])
    for style in ["Baroque", "Baroque", "Baroque", "Cubism"]:
        review_task_create(confidence=0.3, predicted_style=style)
    fauvism = Style.objects.get(code="Fauvism")
    review_resolve(task=review_claim_next(reviewer=rita), reviewer=rita, decision="accepted")
    review_resolve(task=review_claim_next(reviewer=rita), reviewer=rita, decision="corrected", style=fauvism)
    review_resolve(task=review_claim_next(reviewer=otto), reviewer=otto, decision="not_in_taxonomy")
    review_resolve(task=review_claim_next(reviewer=otto), reviewer=otto, decision="accepted")

    stats = reviewer_stats()

    assert [
        (row["username"], row["total"], row["accepted"], row["corrected"], row["not_in_taxonomy"], row["agreement"])
        for row in stats["per_reviewer"]
    ] == [("otto", 2, 1, 0, 1, 0.5), ("rita", 2, 1, 1, 0, 0.5)]
    assert [(row["code"], row["total"], row["accepted"], row["agreement"]) for row in stats["per_style"]] == [
        ("Baroque", 3, 1, pytest.approx(1 / 3)),
        ("Cubism", 1, 1, 1.0),
    ]
    assert (stats["total_decisions"], stats["overall_agreement"]) == (4, 0.5)


def test_training_start_and_progress(client, django_capture_on_commit_callbacks):
    admin = UserFactory(username="mia", roles=["ml_admin"])
    client.force_login(admin)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("training-start"), {"epochs": "3", "activate_best": "on"})

    run = TrainingRun.objects.get()
    assert (response.status_code, response["Location"]) == (302, reverse("training-detail", args=[run.pk]))
    assert (run.config, run.started_by, run.status) == (
        {"from_db": True, "activate_best": True, "epochs": 3},
        admin,
        "queued",
    )
    assert len(callbacks) == 1  # the worker is handed the run only after the commit
    assert client.get(reverse("training-progress", args=[run.pk])).json() == {
        "id": run.pk,
        "status": "queued",
        "status_display": "Queued",
        "progress": 0.0,
        "percent": 0.0,
        "current_step": "",
        "log_tail": "",
        "error": "",
        "finished": False,
        "versions": [],
    }

    response = client.post(reverse("training-start"), {"epochs": "zero"})
    assert response.status_code == 400
    assert TrainingRun.objects.count() == 1

    client.force_login(UserFactory(username="rita", roles=["reviewer"]))
    assert client.post(reverse("training-start"), {}).status_code == 403
    assert TrainingRun.objects.count() == 1
