"""Every page once, with data on it, as an administrator: headings, charts, zoom, live training progress."""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import expect

from classifier.models import ModelVersion, TrainingRun
from curation.models import Style
from curation.services.review import review_claim_next, review_resolve
from curation.styles import STYLE_CODES
from tests.factories import ModelVersionFactory, UserFactory, review_task_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _version_with_report(folder) -> ModelVersion:
    """A version whose run folder holds the report pictures train_models writes, from a seeded evaluation."""
    from mltrain.metrics import bootstrap_macro_f1_ci, classification_metrics
    from mltrain.plots import PLOT_FILES, plot_confusion_matrix, plot_per_class_f1, plot_training_curves

    rng = np.random.default_rng(7)
    y_true = rng.integers(0, len(STYLE_CODES), 400)
    y_pred = np.where(rng.random(400) < 0.6, y_true, rng.integers(0, len(STYLE_CODES), 400))
    metrics = classification_metrics(y_true, y_pred, STYLE_CODES)
    metrics["macro_f1_ci95"] = list(bootstrap_macro_f1_ci(y_true, y_pred, n_resamples=200))
    metrics["ece"] = 0.041
    folder.mkdir()
    plot_confusion_matrix(metrics["confusion_matrix"], STYLE_CODES, folder / PLOT_FILES["confusion_matrix"])
    plot_per_class_f1(metrics["per_class"], folder / PLOT_FILES["per_class_f1"])
    history = [
        {"epoch": epoch, "train_loss": 3.0 / epoch, "val_loss": 3.2 / epoch + 0.1, "val_macro_f1": 0.1 * epoch}
        for epoch in range(1, 7)
    ]
    plot_training_curves(history, folder / PLOT_FILES["training_curves"])
    return ModelVersionFactory(
        name="lite0-2026-12-04",
        checkpoint_path=str(folder / "model.pt"),
        metrics=metrics,
        status=ModelVersion.Status.ACTIVE,
    )


def test_every_page_renders_with_data(page, shot, sign_in, tmp_path):
    UserFactory(username="root", is_superuser=True, is_staff=True)
    rita = UserFactory(username="rita", roles=["reviewer"])
    version = _version_with_report(tmp_path / "run")
    ModelVersionFactory(name="lite0-broken", status=ModelVersion.Status.REFUSED, refused_reason="checkpoint missing")
    styles = ["Baroque", "Impressionism", "Ukiyo_e", "Cubism", "Realism", "Rococo"]
    tasks = [
        review_task_create(confidence=0.08 + index * 0.035, predicted_style=styles[index % 6], title=f"Study {index}")
        for index in range(12)
    ]
    for _ in range(4):
        review_resolve(task=review_claim_next(reviewer=rita), reviewer=rita, decision="accepted")
    review_resolve(
        task=review_claim_next(reviewer=rita),
        reviewer=rita,
        decision="corrected",
        style=Style.objects.get(code="Fauvism"),
    )
    run = TrainingRun.objects.create(
        status=TrainingRun.Status.RUNNING, progress=0.25, current_step="epoch 2/8", log_tail="epoch 1 macro-F1 0.31"
    )
    sign_in("root")

    page.goto(page.base + "/")
    expect(page.locator("[data-testid=queue-depth]")).to_have_text("7")
    expect(page.locator("[data-testid=model-problem]")).to_have_text(
        "Model lite0-broken was refused: checkpoint missing"
    )
    shot("overview")

    page.goto(page.base + "/gallery/?sort=confidence")
    expect(page.locator("[data-testid=result-count]")).to_have_text("12")
    shot("gallery")

    page.click(f"[data-artwork='{tasks[0].artwork_id}']")
    expect(page.locator("h1")).to_have_text("Study 0")
    page.click("#artwork-img")
    expect(page.locator("#zoom")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#zoom")).to_be_hidden()
    shot("artwork")

    page.goto(page.base + "/review/stats/")
    expect(page.locator("[data-testid=overall-agreement]")).to_have_text("80%")
    shot("reviewer-stats")

    page.goto(page.base + f"/models/{version.pk}/")
    expect(page.locator("[data-plot]")).to_have_count(3)
    for plot in page.locator("[data-plot]").all():
        assert plot.evaluate("image => image.naturalWidth") > 0
    shot("model")

    page.goto(page.base + f"/training/{run.pk}/")
    expect(page.locator("#run-percent")).to_have_text("25%")
    TrainingRun.objects.filter(pk=run.pk).update(progress=0.5, current_step="epoch 4/8")
    # The page polls every 3 s: the new progress appears without a reload.
    expect(page.locator("#run-percent")).to_have_text("50%", timeout=10_000)
    expect(page.locator("#run-step")).to_have_text("epoch 4/8")
    shot("training")

    page.goto(page.base + "/admin/curation/reviewtask/?status__exact=open")
    expect(page.locator("#result_list tbody tr")).to_have_count(7)
    expect(page.locator("select[name=action] option[value=accept_predicted_style]")).to_have_text(
        "Accept the predicted style"
    )
    shot("admin-review-tasks")
