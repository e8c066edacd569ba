"""Django admin: review-task filters with facets, bulk actions through the services, activation, read-only audit."""

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from classifier.models import ModelVersion, ModelVersionEvent
from curation.models import Artwork, ReviewEvent
from curation.services.review import review_claim_next
from tests.factories import ModelVersionFactory, UserFactory, review_task_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_user(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_review_task_changelist_filters_by_status_style_and_confidence_with_facets(client, admin_client_user):
    low = review_task_create(confidence=0.15, predicted_style="Baroque")
    review_task_create(confidence=0.35, predicted_style="Baroque")
    review_task_create(confidence=0.18, predicted_style="Rococo")
    url = reverse("admin:curation_reviewtask_changelist")

    response = client.get(
        url,
        {
            "status": "open",
            "prediction__predicted_style__id__exact": low.prediction.predicted_style_id,
            "confidence_range": "0.0-0.2",
        },
    )

    assert response.status_code == 200
    assert [task.pk for task in response.context["cl"].result_list] == [low.pk]
    html = client.get(url).content.decode()
    # Facet counts next to each filter choice (ShowFacets.ALWAYS).
    assert "Baroque (2)" in html
    assert "Rococo (1)" in html
    assert "0.0 – 0.2 (2)" in html


def test_bulk_accept_predicted_style_leaves_tasks_held_by_others(client, admin_client_user):
    held = review_task_create(confidence=0.2, predicted_style="Baroque")
    free = review_task_create(confidence=0.3, predicted_style="Rococo")
    otto = UserFactory(username="otto", roles=["reviewer"])
    assert review_claim_next(reviewer=otto).pk == held.pk

    response = client.post(
        reverse("admin:curation_reviewtask_changelist"),
        {"action": "accept_predicted_style", helpers.ACTION_CHECKBOX_NAME: [held.pk, free.pk]},
    )

    assert response.status_code == 302
    held.refresh_from_db()
    free.refresh_from_db()
    assert (held.status, held.claimed_by) == ("claimed", otto)
    assert (free.status, free.decision, free.final_style.code, free.resolved_by) == (
        "resolved",
        "accepted",
        "Rococo",
        admin_client_user,
    )
    assert Artwork.objects.get(pk=free.artwork_id).label_source == "reviewer"


def test_bulk_release_claims_writes_released_events(client, admin_client_user):
    task = review_task_create(confidence=0.2)
    review_claim_next(reviewer=UserFactory(username="otto", roles=["reviewer"]))

    client.post(
        reverse("admin:curation_reviewtask_changelist"),
        {"action": "release_claims", helpers.ACTION_CHECKBOX_NAME: [task.pk]},
    )

    task.refresh_from_db()
    assert (task.status, task.claimed_by) == ("open", None)
    event = ReviewEvent.objects.get(task=task, action="released")
    assert (event.actor, event.note) == (admin_client_user, "released by an administrator (held by otto)")


def test_artwork_admin_shows_image_previews(client, admin_client_user):
    task = review_task_create(confidence=0.2)

    listing = client.get(reverse("admin:curation_artwork_changelist")).content.decode()
    change = client.get(reverse("admin:curation_artwork_change", args=[task.artwork_id])).content.decode()

    assert reverse("artwork-thumbnail", args=[task.artwork_id]) in listing
    assert reverse("artwork-display", args=[task.artwork_id]) in change


def test_model_version_activate_action_writes_the_audit_row(client, admin_client_user):
    old = ModelVersionFactory(name="old", status=ModelVersion.Status.ACTIVE)
    new = ModelVersionFactory(name="new")

    client.post(
        reverse("admin:classifier_modelversion_changelist"),
        {"action": "activate_version", helpers.ACTION_CHECKBOX_NAME: [new.pk]},
    )

    assert ModelVersion.objects.get(pk=new.pk).status == "active"
    assert ModelVersion.objects.get(pk=old.pk).status == "retired"
    event = ModelVersionEvent.objects.get(model_version=new, action="activated")
    assert (event.actor, event.note) == (admin_client_user, "activated in the admin")


def test_activating_two_versions_at_once_is_refused(client, admin_client_user):
    first = ModelVersionFactory(name="first")
    second = ModelVersionFactory(name="second")

    client.post(
        reverse("admin:classifier_modelversion_changelist"),
        {"action": "activate_version", helpers.ACTION_CHECKBOX_NAME: [first.pk, second.pk]},
    )

    assert list(ModelVersion.objects.order_by("name").values_list("status", flat=True)) == ["candidate", "candidate"]
    assert ModelVersionEvent.objects.filter(action="activated").count() == 0


def test_the_audit_trail_is_read_only(client, admin_client_user):
    task = review_task_create(confidence=0.2)
    event = ReviewEvent.objects.get(task=task)

    assert client.get(reverse("admin:curation_reviewevent_add")).status_code == 403
    change = client.post(reverse("admin:curation_reviewevent_change", args=[event.pk]), {"note": "edited"})
    assert change.status_code == 403
    assert (
        client.post(reverse("admin:curation_reviewevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    event.refresh_from_db()
    assert event.note == ""
