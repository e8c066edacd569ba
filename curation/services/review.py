"""The human review workflow: claim with a lease, decide, skip, release, undo.

Every state change locks the task (and then its artwork, always in that order) and writes its ReviewEvent in the
same transaction. Claims are handed out from ``review_tasks_for_claim()`` (``SELECT … FOR UPDATE SKIP LOCKED`` on
PostgreSQL) and confirmed with a conditional UPDATE, so that two reviewers never receive the same task on any
database: on SQLite, which has no row locks, the conditional UPDATE is what serialises them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from curation.models import Artwork, ReviewEvent, ReviewTask, Style
from curation.selectors import review_tasks_for_claim

WORK_PERMISSION = "curation.work_reviewtask"
DECISION_ACTIONS = (
    ReviewEvent.Action.ACCEPTED,
    ReviewEvent.Action.CORRECTED,
    ReviewEvent.Action.NOT_IN_TAXONOMY,
)
# How many candidates one claim attempt looks at before giving up; only matters when many reviewers race.
_CLAIM_ATTEMPTS = 20


class ReviewError(Exception):
    """A review action was refused. ``code`` is stable for programs (and maps to an HTTP status in the API):
    ``forbidden``, ``not_claimant``, ``not_claimable``, ``invalid_decision``, ``invalid_style``, ``nothing_to_undo``,
    ``undo_conflict``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _lease_seconds() -> int:
    return int(settings.ATELIER["REVIEW_LEASE_SECONDS"])


def _require_reviewer(reviewer: AbstractBaseUser) -> None:
    if not reviewer.is_active or not reviewer.has_perm(WORK_PERMISSION):
        raise ReviewError("forbidden", "Only reviewers may work the review queue.")


def _event(
    *,
    task: ReviewTask,
    actor: AbstractBaseUser | None,
    action: str,
    from_style: Style | None = None,
    to_style: Style | None = None,
    note: str = "",
    artwork_state_before: dict | None = None,
) -> ReviewEvent:
    return ReviewEvent.objects.create(
        task=task,
        artwork_id=task.artwork_id,
        actor=actor,
        action=action,
        from_style=from_style,
        to_style=to_style,
        note=note[:255],
        artwork_state_before=artwork_state_before,
    )


def _lock_task(task: ReviewTask | int) -> ReviewTask:
    pk = task.pk if isinstance(task, ReviewTask) else task
    return ReviewTask.objects.select_for_update().select_related("prediction").get(pk=pk)


def _holds_claim(task: ReviewTask, reviewer: AbstractBaseUser) -> bool:
    return task.status == ReviewTask.Status.CLAIMED and task.claimed_by_id == reviewer.pk


def _is_claimable(task: ReviewTask, now) -> bool:
    return task.status == ReviewTask.Status.OPEN or (
        task.status == ReviewTask.Status.CLAIMED and task.lease_expires_at is not None and task.lease_expires_at <= now
    )


def review_claim_next(*, reviewer: AbstractBaseUser) -> ReviewTask | None:
    """Hand ``reviewer`` a task to work on, with a lease of ATELIER["REVIEW_LEASE_SECONDS"].

    Their own unexpired claim comes first (its lease is renewed), so reopening the queue shows the same painting.
    Otherwise the least confident claimable task (open, or claimed with an expired lease) that this reviewer has
    not skipped is claimed and a ``claimed`` event written. Returns None when nothing is left.
    """
    _require_reviewer(reviewer)
    now = timezone.now()
    lease_until = now + timedelta(seconds=_lease_seconds())
    own = (
        ReviewTask.objects.filter(status=ReviewTask.Status.CLAIMED, claimed_by=reviewer, lease_expires_at__gt=now)
        .order_by("priority", "created_at", "id")
        .first()
    )
    if own is not None:
        ReviewTask.objects.filter(pk=own.pk, status=ReviewTask.Status.CLAIMED, claimed_by=reviewer).update(
            lease_expires_at=lease_until, updated_at=now
        )
        own.lease_expires_at = lease_until
        return own

    skipped_by_reviewer = ReviewEvent.objects.filter(
        task=OuterRef("pk"), actor=reviewer, action=ReviewEvent.Action.SKIPPED
    )
    for _ in range(_CLAIM_ATTEMPTS):
        with transaction.atomic():
            candidate = (
                review_tasks_for_claim(now=now)
                .filter(~Exists(skipped_by_reviewer))
                .values_list("pk", flat=True)
                .first()
            )
            if candidate is None:
                return None
            claimable = Q(status=ReviewTask.Status.OPEN) | Q(
                status=ReviewTask.Status.CLAIMED, lease_expires_at__lte=now
            )
            # The conditional UPDATE is the real guard: on SQLite there are no row locks, and a task whose lease
            # another transaction just renewed must not be taken.
            updated = ReviewTask.objects.filter(claimable, pk=candidate).update(
                status=ReviewTask.Status.CLAIMED, claimed_by=reviewer, lease_expires_at=lease_until, updated_at=now
            )
            if updated == 1:
                task = ReviewTask.objects.select_related("prediction").get(pk=candidate)
                _event(task=task, actor=reviewer, action=ReviewEvent.Action.CLAIMED)
                return task
    return None


def _artwork_state(artwork: Artwork) -> dict:
    return {
        "verified_style_id": artwork.verified_style_id,
        "label_source": artwork.label_source,
        "status": artwork.status,
    }


def _final_decision(
    *, task: ReviewTask, decision: str, style: Style | None
) -> tuple[ReviewTask.Decision, Style | None]:
    prediction = task.prediction
    predicted_style_id = prediction.predicted_style_id
    if decision == ReviewTask.Decision.NOT_IN_TAXONOMY:
        if style is not None:
            raise ReviewError("invalid_style", "A painting flagged as not in the 27 styles takes no style.")
        return ReviewTask.Decision.NOT_IN_TAXONOMY, None
    if decision == ReviewTask.Decision.ACCEPTED:
        if style is None:
            return ReviewTask.Decision.ACCEPTED, Style.objects.get(pk=predicted_style_id)
        top3_codes = [entry["style"] for entry in prediction.top3]
        if style.code not in top3_codes:
            raise ReviewError(
                "invalid_style", f"{style.name} is not among the model's top 3; correct the style instead."
            )
    elif decision == ReviewTask.Decision.CORRECTED:
        if style is None:
            raise ReviewError("invalid_style", "A correction needs the style the painting belongs to.")
    else:
        raise ReviewError("invalid_decision", f"Unknown decision {decision!r}.")
    # Agreement statistics count any decision that lands on the predicted style as an acceptance.
    if style.pk == predicted_style_id:
        return ReviewTask.Decision.ACCEPTED, style
    return ReviewTask.Decision.CORRECTED, style


def review_resolve(
    *, task: ReviewTask, reviewer: AbstractBaseUser, decision: str, style: Style | None = None
) -> ReviewTask:
    """Record ``reviewer``'s decision on ``task`` and set the artwork's verified style, in one transaction.

    ``accepted`` without a style takes the model's predicted style; with a style it must be one of the top 3
    (the predicted one stays ``accepted``, another becomes ``corrected``). ``corrected`` needs a style (choosing
    the predicted style is recorded as ``accepted``). ``not_in_taxonomy`` takes no style and leaves the artwork
    without a verified style. The reviewer must hold the claim; an open task or one whose lease expired is
    claimed on the way (with its ``claimed`` event), a task another reviewer holds is refused.
    """
    _require_reviewer(reviewer)
    now = timezone.now()
    with transaction.atomic():
        task = _lock_task(task)
        if not _holds_claim(task, reviewer):
            if not _is_claimable(task, now):
                if task.status == ReviewTask.Status.CLAIMED:
                    raise ReviewError("not_claimant", "Another reviewer is working on this painting.")
                raise ReviewError("not_claimable", f"This review task is already {task.get_status_display().lower()}.")
            task.status = ReviewTask.Status.CLAIMED
            task.claimed_by = reviewer
            task.lease_expires_at = now + timedelta(seconds=_lease_seconds())
            task.save(update_fields=["status", "claimed_by", "lease_expires_at", "updated_at"])
            _event(task=task, actor=reviewer, action=ReviewEvent.Action.CLAIMED)
        final_decision, final_style = _final_decision(task=task, decision=decision, style=style)

        artwork = Artwork.objects.select_for_update().get(pk=task.artwork_id)
        state_before = _artwork_state(artwork)
        artwork.verified_style = final_style
        artwork.label_source = Artwork.LabelSource.REVIEWER if final_style else Artwork.LabelSource.NONE
        artwork.status = Artwork.Status.REVIEWED
        artwork.save(update_fields=["verified_style", "label_source", "status", "updated_at"])

        task.status = ReviewTask.Status.RESOLVED
        task.decision = final_decision
        task.final_style = final_style
        task.resolved_by = reviewer
        task.resolved_at = now
        task.claimed_by = None
        task.lease_expires_at = None
        task.save(
            update_fields=[
                "status",
                "decision",
                "final_style",
                "resolved_by",
                "resolved_at",
                "claimed_by",
                "lease_expires_at",
                "updated_at",
            ]
        )
        _event(
            task=task,
            actor=reviewer,
            action=ReviewEvent.Action(final_decision.value),
            from_style=task.prediction.predicted_style,
            to_style=final_style,
            artwork_state_before=state_before,
        )
    return task


def _unclaim(*, task: ReviewTask, reviewer: AbstractBaseUser, action: str, note: str = "") -> ReviewTask:
    with transaction.atomic():
        task = _lock_task(task)
        if not _holds_claim(task, reviewer):
            raise ReviewError("not_claimant", "Only the reviewer who holds this task can skip or release it.")
        task.status = ReviewTask.Status.OPEN
        task.claimed_by = None
        task.lease_expires_at = None
        task.save(update_fields=["status", "claimed_by", "lease_expires_at", "updated_at"])
        _event(task=task, actor=reviewer, action=action, note=note)
    return task


def review_skip(*, task: ReviewTask, reviewer: AbstractBaseUser) -> ReviewTask:
    """Put the task back in the queue for others; ``reviewer`` is not offered it again."""
    _require_reviewer(reviewer)
    return _unclaim(task=task, reviewer=reviewer, action=ReviewEvent.Action.SKIPPED)


def review_release(*, task: ReviewTask, reviewer: AbstractBaseUser) -> ReviewTask:
    """Give a claimed task back to the queue (the reviewer may be offered it again)."""
    _require_reviewer(reviewer)
    return _unclaim(task=task, reviewer=reviewer, action=ReviewEvent.Action.RELEASED)


def review_release_claims(*, tasks: Iterable[ReviewTask], actor: AbstractBaseUser | None) -> int:
    """Release claims on behalf of an administrator (admin bulk action); returns how many were released."""
    released = 0
    for pk in [task.pk for task in tasks]:
        with transaction.atomic():
            task = _lock_task(pk)
            if task.status != ReviewTask.Status.CLAIMED:
                continue
            holder = task.claimed_by
            task.status = ReviewTask.Status.OPEN
            task.claimed_by = None
            task.lease_expires_at = None
            task.save(update_fields=["status", "claimed_by", "lease_expires_at", "updated_at"])
            _event(
                task=task,
                actor=actor,
                action=ReviewEvent.Action.RELEASED,
                note=f"released by an administrator (held by {holder})" if holder else "released by an administrator",
            )
            released += 1
    return released


def review_release_expired() -> int:
    """Reopen claims whose lease ran out, with a ``released`` event each; returns how many.

    Optional housekeeping: expired claims are claimable anyway, this only keeps the queue's status honest.
    """
    now = timezone.now()
    released = 0
    expired_ids = list(
        ReviewTask.objects.filter(status=ReviewTask.Status.CLAIMED, lease_expires_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    for pk in expired_ids:
        with transaction.atomic():
            updated = ReviewTask.objects.filter(
                pk=pk, status=ReviewTask.Status.CLAIMED, lease_expires_at__lte=now
            ).update(status=ReviewTask.Status.OPEN, claimed_by=None, lease_expires_at=None, updated_at=now)
            if updated:
                task = ReviewTask.objects.get(pk=pk)
                _event(task=task, actor=None, action=ReviewEvent.Action.RELEASED, note="lease expired")
                released += 1
    return released


def review_accept_predicted(*, tasks: Iterable[ReviewTask], actor: AbstractBaseUser) -> int:
    """Accept the model's style for many tasks (admin bulk action); tasks someone else holds are left alone.

    Returns how many were accepted.
    """
    accepted = 0
    for task in tasks:
        try:
            review_resolve(task=task, reviewer=actor, decision=ReviewTask.Decision.ACCEPTED)
        except ReviewError as error:
            if error.code == "forbidden":
                raise
            continue
        accepted += 1
    return accepted


def review_undo_last(*, reviewer: AbstractBaseUser) -> ReviewTask | None:
    """Revert ``reviewer``'s most recent decision that is still in force; None when there is none.

    The task goes back to being claimed by the reviewer (fresh lease) and the artwork gets back the verified
    style, label source and status it had before, with an ``undone`` event. Refused (``undo_conflict``) when the
    artwork changed since, e.g. a newer prediction opened another task for it.
    """
    _require_reviewer(reviewer)
    now = timezone.now()
    with transaction.atomic():
        decision_event = (
            ReviewEvent.objects.filter(
                actor=reviewer,
                action__in=DECISION_ACTIONS,
                task__status=ReviewTask.Status.RESOLVED,
                task__resolved_by=reviewer,
            )
            .order_by("-created_at", "-id")
            .first()
        )
        if decision_event is None:
            return None
        task = _lock_task(decision_event.task_id)
        if task.status != ReviewTask.Status.RESOLVED or task.resolved_by_id != reviewer.pk:
            raise ReviewError("undo_conflict", "This decision changed while it was being undone; try again.")
        artwork = Artwork.objects.select_for_update().get(pk=task.artwork_id)
        if (
            artwork.verified_style_id != task.final_style_id
            or artwork.status != Artwork.Status.REVIEWED
            or ReviewTask.objects.filter(
                artwork_id=artwork.pk, status__in=[ReviewTask.Status.OPEN, ReviewTask.Status.CLAIMED]
            ).exists()
        ):
            raise ReviewError(
                "undo_conflict", "The painting has changed since this decision (a newer review or prediction)."
            )
        before = decision_event.artwork_state_before or {}
        artwork.verified_style_id = before.get("verified_style_id")
        artwork.label_source = before.get("label_source", Artwork.LabelSource.NONE)
        artwork.status = before.get("status", Artwork.Status.NEEDS_REVIEW)
        artwork.save(update_fields=["verified_style", "label_source", "status", "updated_at"])

        undone_style = task.final_style
        task.status = ReviewTask.Status.CLAIMED
        task.claimed_by = reviewer
        task.lease_expires_at = now + timedelta(seconds=_lease_seconds())
        task.decision = ""
        task.final_style = None
        task.resolved_by = None
        task.resolved_at = None
        task.save(
            update_fields=[
                "status",
                "claimed_by",
                "lease_expires_at",
                "decision",
                "final_style",
                "resolved_by",
                "resolved_at",
                "updated_at",
            ]
        )
        _event(
            task=task,
            actor=reviewer,
            action=ReviewEvent.Action.UNDONE,
            from_style=undone_style,
            to_style=artwork.verified_style,
            note=f"undid {decision_event.action} (event #{decision_event.pk})",
        )
    return task
