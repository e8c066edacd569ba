"""Server-rendered pages: roles enforced on the server, decisions through the forms, bad input answered with 4xx."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classifier.models import ModelVersion, ModelVersionEvent
from curation.models import Artwork, ReviewEvent, ReviewTask
from curation.services.review import review_claim_next
from tests.factories import ArtworkFactory, ModelVersionFactory, UserFactory, review_task_create

pytestmark = pytest.mark.django_db

PAGES = {
    "overview": (reverse("overview"), ("curator", "reviewer", "ml_admin"), ()),
    "gallery": (reverse("gallery"), ("curator", "reviewer", "ml_admin"), ()),
    "upload": (reverse("upload"), ("curator",), ("reviewer", "ml_admin")),
    "review": (reverse("review-queue"), ("reviewer",), ("curator", "ml_admin")),
    "reviewer stats": (reverse("review-stats"), ("reviewer", "ml_admin"), ("curator",)),
    "models": (reverse("model-list"), ("curator", "reviewer", "ml_admin"), ()),
    "training": (reverse("training-list"), ("ml_admin",), ("curator", "reviewer")),
    "export": (reverse("export"), ("curator",), ("reviewer", "ml_admin")),
}


def _client_for(client, role):
    user = UserFactory(username=f"{role}-user", roles=[role])
    client.force_login(user)
    return user


@pytest.mark.parametrize("page", sorted(PAGES))
def test_anonymous_visitors_are_sent_to_sign_in(client, page):
    url = PAGES[page][0]
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(
    ("page", "role", "expected"),
    [(page, role, 200) for page, (_, allowed, _) in PAGES.items() for role in allowed]
    + [(page, role, 403) for page, (_, _, refused) in PAGES.items() for role in refused],
)
def test_each_role_reaches_exactly_its_pages(client, page, role, expected):
    _client_for(client, role)
    response = client.get(PAGES[page][0])
    assert response.status_code == expected


def test_navigation_shows_only_the_roles_pages(client):
    _client_for(client, "reviewer")
    html = client.get(reverse("overview")).content.decode()
    assert f'href="{reverse("review-queue")}"' in html
    assert f'href="{reverse("upload")}"' not in html
    assert f'href="{reverse("training-list")}"' not in html
    assert f'href="{reverse("export")}"' not in html


def test_sign_in_page_and_sign_in(client):
    UserFactory(username="cora", roles=["curator"])
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "cora", "password": "correct horse battery staple"})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.get("/").status_code == 200


def test_overview_shows_counts_queue_and_model_problems(client):
    _client_for(client, "curator")
    review_task_create(confidence=0.2)
    review_task_create(confidence=0.3)
    ArtworkFactory()
    refused = ModelVersionFactory(name="broken", status=ModelVersion.Status.REFUSED, refused_reason="sha256 mismatch")

    response = client.get(reverse("overview"))

    stats = response.context["stats"]
    assert stats["status_counts"] == {"pending": 1, "classified": 0, "needs_review": 2, "reviewed": 0, "failed": 0}
    assert stats["queue"]["depth"] == 2
    assert stats["model_problems"][0]["name"] == refused.name
    assert "sha256 mismatch" in response.content.decode()


def test_gallery_filters_and_reports_bad_filters_with_400(client):
    _client_for(client, "curator")
    low = review_task_create(confidence=0.2, predicted_style="Baroque")
    review_task_create(confidence=0.45, predicted_style="Rococo")

    response = client.get(reverse("gallery"), {"style": "Baroque"})
    assert [artwork.pk for artwork in response.context["page"].object_list] == [low.artwork_id]
    response = client.get(reverse("gallery"), {"confidence_max": "0.3", "sort": "confidence"})
    assert [artwork.pk for artwork in response.context["page"].object_list] == [low.artwork_id]

    response = client.get(reverse("gallery"), {"confidence_min": "lots"})
    assert response.status_code == 400
    assert "Minimum confidence must be a number between 0 and 1." in response.content.decode()


def test_artwork_page_shows_top3_and_histories(client):
    _client_for(client, "curator")
    task = review_task_create(confidence=0.42, predicted_style="Baroque")

    response = client.get(reverse("artwork-page", args=[task.artwork_id]))

    assert response.status_code == 200
    assert [(entry["code"], entry["percent"]) for entry in response.context["top3"]] == [
        ("Baroque", 42.0),
        ("Post_Impressionism", 34.8),
        ("Realism", 11.6),
    ]
    assert len(response.context["predictions"]) == 1
    assert [event.action for event in response.context["events"]] == ["opened"]
    assert client.get(reverse("artwork-page", args=[999999])).status_code == 404


def test_review_queue_claims_and_decides_through_forms(client):
    reviewer = _client_for(client, "reviewer")
    first = review_task_create(confidence=0.2, predicted_style="Baroque")
    second = review_task_create(confidence=0.3, predicted_style="Rococo")

    response = client.get(reverse("review-queue"))
    assert response.context["task"].pk == first.pk
    # The next painting's image is prefetched, so that it shows at once after the decision.
    prefetch = f'<link rel="prefetch" href="{reverse("artwork-display", args=[second.artwork_id])}" as="image">'
    assert prefetch in response.content.decode()
    response = client.post(reverse("review-decide", args=[first.pk]), {"decision": "accepted", "style": "Baroque"})
    assert (response.status_code, response["Location"]) == (302, reverse("review-queue"))
    response = client.get(reverse("review-queue"))
    assert response.context["task"].pk == second.pk

    response = client.post(reverse("review-decide", args=[second.pk]), {"decision": "corrected", "style": "Nope"})
    assert response.status_code == 400
    second.refresh_from_db()
    assert (second.status, second.claimed_by) == ("claimed", reviewer)

    client.post(reverse("review-undo"))
    first.refresh_from_db()
    assert (first.status, first.claimed_by) == ("claimed", reviewer)
    assert Artwork.objects.get(pk=first.artwork_id).verified_style is None


def test_review_decision_on_someone_elses_task_is_409_and_changes_nothing(client):
    other = UserFactory(username="otto", roles=["reviewer"])
    task = review_task_create(confidence=0.2)
    review_claim_next(reviewer=other)
    _client_for(client, "reviewer")
    events_before = ReviewEvent.objects.count()

    response = client.post(reverse("review-decide", args=[task.pk]), {"decision": "accepted"})

    assert response.status_code == 409
    task.refresh_from_db()
    assert (task.status, task.claimed_by) == ("claimed", other)
    assert ReviewEvent.objects.count() == events_before


def test_a_curator_cannot_post_decisions(client):
    task = review_task_create(confidence=0.2)
    _client_for(client, "curator")

    response = client.post(reverse("review-decide", args=[task.pk]), {"decision": "accepted"})

    assert response.status_code == 403
    assert ReviewTask.objects.get(pk=task.pk).status == "open"


def test_model_activation_needs_ml_admin_and_confirmation(client, tmp_path):
    old = ModelVersionFactory(name="old", status=ModelVersion.Status.ACTIVE)
    new = ModelVersionFactory(name="new")
    url = reverse("model-activate", args=[new.pk])

    _client_for(client, "reviewer")
    assert client.get(url).status_code == 403
    assert client.post(url, {"confirm": "yes"}).status_code == 403
    client.logout()

    admin = _client_for(client, "ml_admin")
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 400
    assert ModelVersion.objects.get(pk=new.pk).status == "candidate"
    response = client.post(url, {"confirm": "yes", "note": "better macro-F1"})
    assert (response.status_code, response["Location"]) == (302, reverse("model-detail", args=[new.pk]))
    assert ModelVersion.objects.get(pk=new.pk).status == "active"
    assert ModelVersion.objects.get(pk=old.pk).status == "retired"
    event = ModelVersionEvent.objects.get(model_version=new, action="activated")
    assert (event.actor, event.note) == (admin, "better macro-F1")


def test_model_page_serves_report_pictures_through_an_authenticated_view(client, tmp_path):
    from mltrain.plots import PLOT_FILES, plot_per_class_f1

    run_folder = tmp_path / "run"
    run_folder.mkdir()
    plot_per_class_f1(
        {"Baroque": {"f1": 0.5, "precision": 0.5, "recall": 0.5, "support": 2}}, run_folder / PLOT_FILES["per_class_f1"]
    )
    version = ModelVersionFactory(
        name="with-plots",
        checkpoint_path=str(run_folder / "model.pt"),
        metrics={"macro_f1": 0.61, "macro_f1_ci95": [0.55, 0.67], "per_class": {"Baroque": {"f1": 0.5}}},
    )
    plot_url = reverse("model-plot", args=[version.pk, "per_class_f1"])
    assert client.get(plot_url).status_code == 302

    _client_for(client, "reviewer")
    page = client.get(reverse("model-detail", args=[version.pk]))
    assert [plot["kind"] for plot in page.context["plots"]] == ["per_class_f1"]
    response = client.get(plot_url)
    assert (response.status_code, response["Content-Type"], response["X-Content-Type-Options"]) == (
        200,
        "image/png",
        "nosniff",
    )
    assert b"".join(response.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(reverse("model-plot", args=[version.pk, "confusion_matrix"])).status_code == 404
    assert client.get(f"/models/{version.pk}/plots/..%2Fmodel.png").status_code == 404


def test_upload_endpoint_reports_each_file(client, sample_dir):
    _client_for(client, "curator")
    path = next(iter(sorted((sample_dir / "Baroque").glob("*.jpg"))))

    with open(path, "rb") as handle:
        first = client.post(reverse("upload-file"), {"file": handle})
    with open(path, "rb") as handle:
        again = client.post(reverse("upload-file"), {"file": handle})
    disguised = SimpleUploadedFile("painting.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")
    bad = client.post(reverse("upload-file"), {"file": disguised})

    artwork = Artwork.objects.get()
    assert (first.status_code, first.json()["result"], first.json()["artwork_id"]) == (201, "accepted", artwork.pk)
    assert (again.status_code, again.json()["result"], again.json()["message"]) == (
        200,
        "duplicate",
        f"Already in the collection as #{artwork.pk}.",
    )
    assert (bad.status_code, bad.json()["code"], Artwork.objects.count()) == (400, "unsupported_format", 1)
    status = client.get(reverse("upload-status"), {"ids": str(artwork.pk)}).json()
    assert status == {
        "artworks": [
            {
                "id": artwork.pk,
                "status": "pending",
                "status_display": "Pending",
                "predicted_style": None,
                "confidence": None,
                "failure_reason": "",
                "done": False,
            }
        ]
    }
    assert client.get(reverse("upload-status"), {"ids": "1,x"}).status_code == 400
