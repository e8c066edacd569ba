"""The review workflow services: claim with a lease, resolve, skip, release, undo — on real ingested images."""

from datetime import timedelta

import pytest
from django.utils import timezone

from curation.models import Artwork, ReviewEvent, ReviewTask, Style
from curation.services.review import (
    ReviewError,
    review_accept_predicted,
    review_claim_next,
    review_release,
    review_release_claims,
    review_release_expired,
    review_resolve,
    review_skip,
    review_undo_last,
)
from tests.factories import PredictionFactory, UserFactory, review_task_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer():
    return UserFactory(username="rita", roles=["reviewer"])


@pytest.fixture
def other_reviewer():
    return UserFactory(username="otto", roles=["reviewer"])


def _snapshot(task: ReviewTask) -> tuple:
    task = ReviewTask.objects.get(pk=task.pk)
    artwork = Artwork.objects.get(pk=task.artwork_id)
    return (
        task.status,
        task.claimed_by_id,
        task.lease_expires_at,
        task.decision,
        task.final_style_id,
        task.resolved_by_id,
        artwork.status,
        artwork.verified_style_id,
        artwork.label_source,
        ReviewEvent.objects.count(),
    )


def test_claim_next_hands_out_least_confident_first_with_a_lease(reviewer, settings):
    settings.ATELIER = {**settings.ATELIER, "REVIEW_LEASE_SECONDS": 300}
    review_task_create(confidence=0.61)
    lowest = review_task_create(confidence=0.12)
    review_task_create(confidence=0.35)

    task = review_claim_next(reviewer=reviewer)

    task.refresh_from_db()
    assert task.pk == lowest.pk
    assert task.status == ReviewTask.Status.CLAIMED
    assert task.claimed_by == reviewer
    assert task.lease_expires_at - task.updated_at == timedelta(seconds=300)
    claimed = ReviewEvent.objects.filter(task=task, action=ReviewEvent.Action.CLAIMED)
    assert [(event.actor_id, event.artwork_id) for event in claimed] == [(reviewer.pk, lowest.artwork_id)]


def test_claim_next_returns_the_reviewers_own_claim_again(reviewer):
    first = review_task_create(confidence=0.2)
    review_task_create(confidence=0.3)

    assert review_claim_next(reviewer=reviewer).pk == first.pk
    assert review_claim_next(reviewer=reviewer).pk == first.pk
    assert ReviewEvent.objects.filter(action=ReviewEvent.Action.CLAIMED).count() == 1


def test_two_reviewers_get_different_tasks_and_a_third_gets_none(reviewer, other_reviewer):
    first = review_task_create(confidence=0.2)
    second = review_task_create(confidence=0.3)
    third_reviewer = UserFactory(username="tess", roles=["reviewer"])

    assert review_claim_next(reviewer=reviewer).pk == first.pk
    assert review_claim_next(reviewer=other_reviewer).pk == second.pk
    assert review_claim_next(reviewer=third_reviewer) is None


def test_an_expired_lease_returns_the_task_to_the_queue(reviewer, other_reviewer):
    task = review_task_create(confidence=0.2)
    review_claim_next(reviewer=reviewer)
    ReviewTask.objects.filter(pk=task.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    taken = review_claim_next(reviewer=other_reviewer)

    taken.refresh_from_db()
    assert (taken.pk, taken.claimed_by_id) == (task.pk, other_reviewer.pk)
    # The first reviewer can no longer decide it.
    with pytest.raises(ReviewError) as error:
        review_resolve(task=task, reviewer=reviewer, decision="accepted")
    assert error.value.code == "not_claimant"


def test_user_without_the_reviewer_role_cannot_claim(reviewer):
    review_task_create(confidence=0.2)
    curator = UserFactory(username="cora", roles=["curator"])

    with pytest.raises(ReviewError) as error:
        review_claim_next(reviewer=curator)

    assert error.value.code == "forbidden"
    assert ReviewTask.objects.get().status == ReviewTask.Status.OPEN
    assert ReviewEvent.objects.filter(action=ReviewEvent.Action.CLAIMED).count() == 0


def test_accept_sets_the_verified_style_and_writes_the_event(reviewer):
    task = review_task_create(confidence=0.3, predicted_style="Baroque")
    review_claim_next(reviewer=reviewer)

    review_resolve(task=task, reviewer=reviewer, decision="accepted")

    task.refresh_from_db()
    artwork = Artwork.objects.get(pk=task.artwork_id)
    baroque = Style.objects.get(code="Baroque")
    assert (task.status, task.decision, task.final_style, task.resolved_by, task.claimed_by) == (
        "resolved",
        "accepted",
        baroque,
        reviewer,
        None,
    )
    assert (artwork.verified_style, artwork.label_source, artwork.status) == (baroque, "reviewer", "reviewed")
    event = ReviewEvent.objects.get(task=task, action=ReviewEvent.Action.ACCEPTED)
    assert (event.actor, event.from_style, event.to_style) == (reviewer, baroque, baroque)
    assert event.artwork_state_before == {"verified_style_id": None, "label_source": "none", "status": "needs_review"}


def test_accepting_another_top3_style_is_a_correction(reviewer):
    task = review_task_create(confidence=0.3, predicted_style="Impressionism")
    review_claim_next(reviewer=reviewer)
    post = Style.objects.get(code="Post_Impressionism")

    review_resolve(task=task, reviewer=reviewer, decision="accepted", style=post)

    task.refresh_from_db()
    assert (task.decision, task.final_style) == ("corrected", post)
    event = ReviewEvent.objects.get(task=task, action=ReviewEvent.Action.CORRECTED)
    assert (event.from_style.code, event.to_style.code) == ("Impressionism", "Post_Impressionism")


def test_correcting_to_the_predicted_style_counts_as_acceptance(reviewer):
    task = review_task_create(confidence=0.3, predicted_style="Rococo")

    review_resolve(task=task, reviewer=reviewer, decision="corrected", style=Style.objects.get(code="Rococo"))

    task.refresh_from_db()
    assert (task.decision, task.final_style.code) == ("accepted", "Rococo")


def test_accepting_a_style_outside_the_top3_is_refused_and_changes_nothing(reviewer):
    task = review_task_create(confidence=0.3, predicted_style="Impressionism")
    review_claim_next(reviewer=reviewer)
    before = _snapshot(task)

    with pytest.raises(ReviewError) as error:
        review_resolve(task=task, reviewer=reviewer, decision="accepted", style=Style.objects.get(code="Ukiyo_e"))

    assert error.value.code == "invalid_style"
    assert _snapshot(task) == before


@pytest.mark.parametrize(
    ("decision", "style_code", "code"),
    [
        ("corrected", None, "invalid_style"),
        ("not_in_taxonomy", "Baroque", "invalid_style"),
        ("maybe", None, "invalid_decision"),
    ],
)
def test_invalid_decisions_are_refused_and_change_nothing(reviewer, decision, style_code, code):
    task = review_task_create(confidence=0.3)
    review_claim_next(reviewer=reviewer)
    before = _snapshot(task)
    style = Style.objects.get(code=style_code) if style_code else None

    with pytest.raises(ReviewError) as error:
        review_resolve(task=task, reviewer=reviewer, decision=decision, style=style)

    assert error.value.code == code
    assert _snapshot(task) == before


def test_correction_to_any_style_and_flag_not_in_taxonomy(reviewer):
    corrected = review_task_create(confidence=0.2, predicted_style="Impressionism")
    flagged = review_task_create(confidence=0.3, predicted_style="Cubism")
    ukiyo = Style.objects.get(code="Ukiyo_e")

    review_resolve(task=review_claim_next(reviewer=reviewer), reviewer=reviewer, decision="corrected", style=ukiyo)
    review_resolve(task=review_claim_next(reviewer=reviewer), reviewer=reviewer, decision="not_in_taxonomy")

    corrected_artwork = Artwork.objects.get(pk=corrected.artwork_id)
    flagged_artwork = Artwork.objects.get(pk=flagged.artwork_id)
    assert (corrected_artwork.verified_style, corrected_artwork.label_source) == (ukiyo, "reviewer")
    assert (flagged_artwork.verified_style, flagged_artwork.label_source, flagged_artwork.status) == (
        None,
        "none",
        "reviewed",
    )
    flag_event = ReviewEvent.objects.get(task=flagged, action=ReviewEvent.Action.NOT_IN_TAXONOMY)
    assert (flag_event.from_style.code, flag_event.to_style) == ("Cubism", None)


def test_a_task_held_by_another_reviewer_cannot_be_resolved(reviewer, other_reviewer):
    task = review_task_create(confidence=0.3)
    review_claim_next(reviewer=other_reviewer)
    before = _snapshot(task)

    with pytest.raises(ReviewError) as error:
        review_resolve(task=task, reviewer=reviewer, decision="accepted")

    assert error.value.code == "not_claimant"
    assert _snapshot(task) == before


def test_resolving_an_open_task_claims_it_on_the_way(reviewer):
    task = review_task_create(confidence=0.3)

    review_resolve(task=task, reviewer=reviewer, decision="accepted")

    actions = list(ReviewEvent.objects.filter(task=task).order_by("id").values_list("action", flat=True))
    assert actions == ["opened", "claimed", "accepted"]


def test_a_resolved_task_cannot_be_resolved_again(reviewer, other_reviewer):
    task = review_task_create(confidence=0.3)
    review_resolve(task=task, reviewer=reviewer, decision="accepted")
    before = _snapshot(task)

    with pytest.raises(ReviewError) as error:
        review_resolve(task=task, reviewer=other_reviewer, decision="not_in_taxonomy")

    assert error.value.code == "not_claimable"
    assert _snapshot(task) == before


def test_skip_reopens_the_task_and_hides_it_from_the_skipper(reviewer, other_reviewer):
    first = review_task_create(confidence=0.2)
    second = review_task_create(confidence=0.4)
    review_claim_next(reviewer=reviewer)

    review_skip(task=first, reviewer=reviewer)

    first.refresh_from_db()
    assert (first.status, first.claimed_by, first.lease_expires_at) == ("open", None, None)
    assert ReviewEvent.objects.filter(task=first, action="skipped", actor=reviewer).count() == 1
    assert review_claim_next(reviewer=reviewer).pk == second.pk
    review_skip(task=second, reviewer=reviewer)
    assert review_claim_next(reviewer=reviewer) is None
    assert review_claim_next(reviewer=other_reviewer).pk == first.pk


def test_only_the_claimant_can_skip_or_release(reviewer, other_reviewer):
    task = review_task_create(confidence=0.2)
    review_claim_next(reviewer=reviewer)
    before = _snapshot(task)

    for action in (review_skip, review_release):
        with pytest.raises(ReviewError) as error:
            action(task=task, reviewer=other_reviewer)
        assert error.value.code == "not_claimant"
    assert _snapshot(task) == before


def test_release_returns_the_task_and_the_reviewer_may_get_it_again(reviewer):
    task = review_task_create(confidence=0.2)
    review_claim_next(reviewer=reviewer)

    review_release(task=task, reviewer=reviewer)

    task.refresh_from_db()
    assert (task.status, task.claimed_by) == ("open", None)
    assert review_claim_next(reviewer=reviewer).pk == task.pk


def test_release_expired_reopens_only_expired_claims(reviewer, other_reviewer):
    expired = review_task_create(confidence=0.2)
    fresh = review_task_create(confidence=0.3)
    review_claim_next(reviewer=reviewer)
    review_claim_next(reviewer=other_reviewer)
    ReviewTask.objects.filter(pk=expired.pk).update(lease_expires_at=timezone.now() - timedelta(minutes=1))

    assert review_release_expired() == 1

    expired.refresh_from_db()
    fresh.refresh_from_db()
    assert (expired.status, fresh.status, fresh.claimed_by) == ("open", "claimed", other_reviewer)
    event = ReviewEvent.objects.get(task=expired, action="released")
    assert (event.actor, event.note) == (None, "lease expired")


def test_admin_bulk_actions(reviewer, other_reviewer):
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    held = review_task_create(confidence=0.2, predicted_style="Baroque")
    free = review_task_create(confidence=0.3, predicted_style="Rococo")
    review_claim_next(reviewer=other_reviewer)

    assert review_accept_predicted(tasks=ReviewTask.objects.all(), actor=admin) == 1
    assert review_release_claims(tasks=ReviewTask.objects.all(), actor=admin) == 1

    held.refresh_from_db()
    free.refresh_from_db()
    assert (free.status, free.decision, free.final_style.code, free.resolved_by) == (
        "resolved",
        "accepted",
        "Rococo",
        admin,
    )
    assert (held.status, held.claimed_by) == ("open", None)


def test_undo_restores_the_artwork_and_gives_the_task_back(reviewer):
    task = review_task_create(confidence=0.3, predicted_style="Impressionism")
    review_claim_next(reviewer=reviewer)
    review_resolve(task=task, reviewer=reviewer, decision="corrected", style=Style.objects.get(code="Fauvism"))

    undone = review_undo_last(reviewer=reviewer)

    undone.refresh_from_db()
    artwork = Artwork.objects.get(pk=task.artwork_id)
    assert undone.pk == task.pk
    assert (undone.status, undone.claimed_by, undone.decision, undone.final_style, undone.resolved_at) == (
        "claimed",
        reviewer,
        "",
        None,
        None,
    )
    assert (artwork.verified_style, artwork.label_source, artwork.status) == (None, "none", "needs_review")
    event = ReviewEvent.objects.get(task=task, action=ReviewEvent.Action.UNDONE)
    assert (event.actor, event.from_style.code, event.to_style) == (reviewer, "Fauvism", None)
    # The reopened task is the reviewer's claim again, to decide anew.
    assert review_claim_next(reviewer=reviewer).pk == task.pk
    assert review_undo_last(reviewer=reviewer) is None


def test_undo_restores_a_dataset_label(reviewer):
    task = review_task_create(confidence=0.3, predicted_style="Impressionism")
    realism = Style.objects.get(code="Realism")
    Artwork.objects.filter(pk=task.artwork_id).update(verified_style=realism, label_source="dataset")
    review_resolve(task=task, reviewer=reviewer, decision="accepted")

    review_undo_last(reviewer=reviewer)

    artwork = Artwork.objects.get(pk=task.artwork_id)
    assert (artwork.verified_style, artwork.label_source, artwork.status) == (realism, "dataset", "needs_review")


def test_undo_walks_back_decisions_newest_first(reviewer):
    first = review_task_create(confidence=0.2)
    second = review_task_create(confidence=0.3)
    review_resolve(task=review_claim_next(reviewer=reviewer), reviewer=reviewer, decision="accepted")
    review_resolve(task=review_claim_next(reviewer=reviewer), reviewer=reviewer, decision="not_in_taxonomy")

    assert review_undo_last(reviewer=reviewer).pk == second.pk
    assert review_undo_last(reviewer=reviewer).pk == first.pk
    assert review_undo_last(reviewer=reviewer) is None
    assert ReviewEvent.objects.filter(action="undone").count() == 2


def test_undo_is_refused_when_a_newer_prediction_reopened_the_artwork(reviewer):
    task = review_task_create(confidence=0.3)
    review_resolve(task=task, reviewer=reviewer, decision="accepted")
    newer = PredictionFactory(artwork=Artwork.objects.get(pk=task.artwork_id), confidence=0.25)
    ReviewTask.objects.create(artwork_id=task.artwork_id, prediction=newer, priority=0.25)
    Artwork.objects.filter(pk=task.artwork_id).update(status="needs_review")
    before = _snapshot(task)

    with pytest.raises(ReviewError) as error:
        review_undo_last(reviewer=reviewer)

    assert error.value.code == "undo_conflict"
    assert _snapshot(task) == before


def test_undo_only_touches_the_reviewers_own_decisions(reviewer, other_reviewer):
    task = review_task_create(confidence=0.3)
    review_resolve(task=task, reviewer=other_reviewer, decision="accepted")
    before = _snapshot(task)

    assert review_undo_last(reviewer=reviewer) is None
    assert _snapshot(task) == before
