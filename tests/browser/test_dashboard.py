"""The dashboard in a real browser: sign in, upload, keyboard review, role refusal, export."""

from __future__ import annotations

import csv
import io
import shutil

import pytest
from playwright.sync_api import expect

from classifier.models import ModelVersion, Prediction
from curation.models import Artwork, ReviewEvent, ReviewTask, Style
from tests.factories import ModelVersionFactory, UserFactory, review_task_create

# The live server needs a transactional database; conftest restores the styles and role groups its flush removes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_leads_to_the_overview(page, shot):
    UserFactory(username="cora", roles=["curator"])

    page.goto(page.base + "/gallery/")
    assert page.url == page.base + "/accounts/login/?next=/gallery/"
    shot("sign-in")
    page.fill("#id_username", "cora")
    page.fill("#id_password", "wrong password")
    page.click("button[type=submit]")
    assert page.locator(".alert.error").inner_text() == "Your username and password did not match. Please try again."
    page.fill("#id_username", "cora")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")

    page.wait_for_url(page.base + "/gallery/")
    assert page.locator("h1").inner_text() == "Gallery"
    assert page.locator(".userbox span").inner_text() == "cora"
    shot("gallery-after-sign-in")


def test_upload_three_paintings_and_a_bad_file(page, shot, sign_in, sample_dir, active_model):
    UserFactory(username="cora", roles=["curator"])
    paintings = [
        sample_dir / "Baroque" / sorted(path.name for path in (sample_dir / "Baroque").glob("*.jpg"))[0],
        sample_dir / "Ukiyo_e" / sorted(path.name for path in (sample_dir / "Ukiyo_e").glob("*.jpg"))[0],
        sample_dir / "Cubism" / sorted(path.name for path in (sample_dir / "Cubism").glob("*.jpg"))[0],
    ]
    sign_in("cora")
    page.goto(page.base + "/upload/")

    page.set_input_files("#file-input", [str(path) for path in paintings])
    # The fourth file arrives by drag and drop: an HTML page pretending to be a JPEG.
    page.evaluate(
        """() => {
            const data = new DataTransfer();
            data.items.add(new File(["<html><body>not a painting</body></html>"], "fake.jpg", {type: "image/jpeg"}));
            const drop = new DragEvent("drop", {dataTransfer: data, bubbles: true});
            document.getElementById("dropzone").dispatchEvent(drop);
        }"""
    )

    expect(page.locator(".upload-row.done")).to_have_count(3, timeout=120_000)
    expect(page.locator(".upload-row.rejected")).to_have_count(1)
    shot("results")

    rejected = page.locator(".upload-row.rejected")
    assert rejected.locator(".name").inner_text() == "fake.jpg"
    assert rejected.locator(".result").inner_text() == (
        "Refused: This is not a JPEG, PNG or WebP image (the file's content was checked)."
    )
    assert page.locator("[data-testid=upload-summary]").inner_text() == "4 file(s): 3 new, 0 already there, 1 refused"
    assert Artwork.objects.count() == 3
    for path in paintings:
        artwork = Artwork.objects.select_related("predicted_style").get(original_filename=path.name)
        prediction = Prediction.objects.get(artwork=artwork)
        assert prediction.model_version_id == active_model.pk
        row = page.locator(f".upload-row[data-artwork-id='{artwork.pk}']")
        assert row.get_attribute("data-prediction") == artwork.predicted_style.name
        status = "Needs review" if artwork.confidence < active_model.review_threshold else "Classified"
        assert row.locator(".status").inner_text() == (
            f"{artwork.predicted_style.name} ({round(artwork.confidence * 100)}%) — {status}"
        )


def test_upload_a_whole_folder(page, shot, sign_in, sample_dir, active_model, tmp_path):
    UserFactory(username="cora", roles=["curator"])
    folder = tmp_path / "batch"
    (folder / "more").mkdir(parents=True)
    paintings = sorted((sample_dir / "Rococo").glob("*.jpg"))[:2]
    shutil.copyfile(paintings[0], folder / paintings[0].name)
    shutil.copyfile(paintings[1], folder / "more" / paintings[1].name)
    (folder / "notes.txt").write_text("not an image")
    sign_in("cora")
    page.goto(page.base + "/upload/")

    page.set_input_files("#folder-input", str(folder))

    expect(page.locator(".upload-row.done")).to_have_count(2, timeout=120_000)
    expect(page.locator(".upload-row.rejected")).to_have_count(1)
    shot("folder")
    assert page.locator(".upload-row.rejected .name").inner_text() == "notes.txt"
    assert sorted(Artwork.objects.values_list("original_filename", flat=True)) == sorted(p.name for p in paintings)
    assert Prediction.objects.filter(model_version=active_model).count() == 2


def test_review_queue_with_the_keyboard_only(page, shot, sign_in):
    rita = UserFactory(username="rita", roles=["reviewer"])
    accepted = review_task_create(confidence=0.11, predicted_style="Baroque", title="First")
    corrected = review_task_create(confidence=0.22, predicted_style="Impressionism", title="Second")
    flagged = review_task_create(confidence=0.33, predicted_style="Cubism", title="Third")
    untouched = review_task_create(confidence=0.44, predicted_style="Rococo", title="Fourth")
    sign_in("rita")

    page.goto(page.base + "/review/")
    assert page.locator("[data-testid=review-artwork]").inner_text() == "First"
    assert "1 / 2 / 3" in page.locator("[data-testid=shortcuts]").inner_text()
    shot("first")

    page.keyboard.press("1")  # accept the model's first style
    page.wait_for_selector("[data-testid=review-artwork]:text-is('Second')")
    page.keyboard.press("t")  # type-ahead for any of the 27 styles
    page.keyboard.type("ukiyo")
    assert page.locator("#style-options li.selected").inner_text() == "Ukiyo-e"
    shot("type-ahead")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=review-artwork]:text-is('Third')")
    page.keyboard.press("n")  # not in the 27 styles
    page.wait_for_selector("[data-testid=review-artwork]:text-is('Fourth')")
    page.keyboard.press("u")  # undo the flag: the third painting comes back
    page.wait_for_selector("[data-testid=review-artwork]:text-is('Third')")
    shot("after-undo")

    accepted.refresh_from_db()
    corrected.refresh_from_db()
    flagged.refresh_from_db()
    untouched.refresh_from_db()
    assert (accepted.status, accepted.decision, accepted.final_style.code, accepted.resolved_by) == (
        "resolved",
        "accepted",
        "Baroque",
        rita,
    )
    assert (corrected.status, corrected.decision, corrected.final_style.code) == ("resolved", "corrected", "Ukiyo_e")
    assert (flagged.status, flagged.claimed_by, flagged.decision, flagged.final_style) == ("claimed", rita, "", None)
    # The fourth painting was claimed when it was shown, and released to nobody else: its claim lapses on its own.
    assert (untouched.status, untouched.claimed_by, untouched.decision) == ("claimed", rita, "")
    artworks = {artwork.pk: artwork for artwork in Artwork.objects.select_related("verified_style")}
    assert (artworks[accepted.artwork_id].verified_style.code, artworks[accepted.artwork_id].label_source) == (
        "Baroque",
        "reviewer",
    )
    assert artworks[corrected.artwork_id].verified_style == Style.objects.get(code="Ukiyo_e")
    flagged_artwork = artworks[flagged.artwork_id]
    assert (flagged_artwork.verified_style, flagged_artwork.label_source, flagged_artwork.status) == (
        None,
        "none",
        "needs_review",
    )
    decisions = list(
        ReviewEvent.objects.filter(actor=rita).exclude(action="claimed").order_by("id").values_list("task_id", "action")
    )
    assert decisions == [
        (accepted.pk, "accepted"),
        (corrected.pk, "corrected"),
        (flagged.pk, "not_in_taxonomy"),
        (flagged.pk, "undone"),
    ]


def test_a_reviewer_cannot_reach_model_activation(page, shot, sign_in):
    UserFactory(username="rita", roles=["reviewer"])
    ModelVersionFactory(name="current", status=ModelVersion.Status.ACTIVE)
    candidate = ModelVersionFactory(name="candidate")
    sign_in("rita")

    page.goto(page.base + "/models/")
    assert page.locator("a:text-is('Activate…')").count() == 0
    response = page.goto(page.base + f"/models/{candidate.pk}/activate/")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "Not allowed"
    shot("refused")
    assert ModelVersion.objects.get(pk=candidate.pk).status == "candidate"


def test_ml_admin_activates_with_confirmation(page, shot, sign_in):
    UserFactory(username="mia", roles=["ml_admin"])
    ModelVersionFactory(name="current", status=ModelVersion.Status.ACTIVE)
    candidate = ModelVersionFactory(name="candidate")
    sign_in("mia")

    page.goto(page.base + f"/models/{candidate.pk}/")
    page.click("a:text-is('Activate…')")
    shot("confirm")
    page.click("button:text-is('Confirm')")
    assert page.locator("[data-testid=activate-error]").inner_text() == (
        "Tick the confirmation box to activate this version."
    )
    assert ModelVersion.objects.get(pk=candidate.pk).status == "candidate"
    page.check("#confirm")
    page.click("button:text-is('Confirm')")
    page.wait_for_url(page.base + f"/models/{candidate.pk}/")
    assert ModelVersion.objects.get(pk=candidate.pk).status == "active"
    assert ModelVersion.objects.get(name="current").status == "retired"


def test_export_csv(page, shot, sign_in):
    UserFactory(username="cora", roles=["curator"])
    rita = UserFactory(username="rita", roles=["reviewer"])
    reviewed = review_task_create(confidence=0.3, predicted_style="Baroque", title="Kept", artist="Rubens")
    waiting = review_task_create(confidence=0.2, predicted_style="Rococo", title="Waiting", artist="Boucher")
    from curation.services.review import review_resolve

    review_resolve(task=reviewed, reviewer=rita, decision="accepted")
    sign_in("cora")

    page.goto(page.base + "/export/")
    shot("export-page")
    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    text = download.path().read_text(encoding="utf-8")

    rows = list(csv.DictReader(io.StringIO(text)))
    assert download.suggested_filename.startswith("atelier-artworks-")
    assert [
        (row["id"], row["title"], row["predicted_style"], row["label"], row["label_provenance"]) for row in rows
    ] == [
        (str(reviewed.artwork_id), "Kept", "Baroque", "Baroque", "reviewer"),
        (str(waiting.artwork_id), "Waiting", "Rococo", "", "none"),
    ]
    assert ReviewTask.objects.filter(status="resolved").count() == 1
