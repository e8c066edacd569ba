"""The review queue (keyboard-driven) and the reviewer statistics. Decisions are plain form POSTs that redirect
to the queue, which claims the next painting at once; refused actions re-render the queue with a 4xx status."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from curation.models import ReviewTask, Style
from curation.selectors import (
    review_next_artwork_id,
    review_recent_decisions,
    review_task_for_page,
    reviewer_stats,
    style_by_code,
    tasks_waiting_for,
    top3_with_styles,
)
from curation.services.review import (
    ReviewError,
    review_claim_next,
    review_release,
    review_resolve,
    review_skip,
    review_undo_last,
)
from curation.views.access import role_required

_ERROR_STATUS = {
    "forbidden": 403,
    "not_claimant": 409,
    "not_claimable": 409,
    "undo_conflict": 409,
    "invalid_decision": 400,
    "invalid_style": 400,
}
KEYBOARD_SHORTCUTS = (
    ("1 / 2 / 3", "accept the model's first, second or third style"),
    ("T or /", "type a style's name to pick any of the 27 (Enter chooses)"),
    ("N", "not a painting, or none of the 27 styles"),
    ("S", "skip: someone else will decide"),
    ("U", "undo your last decision"),
)


def _queue_page(request: HttpRequest, task: ReviewTask | None, *, error: str = "", status: int = 200) -> HttpResponse:
    styles = style_by_code()
    context = {
        "nav": "review",
        "task": task,
        "top3": top3_with_styles(top3=task.prediction.top3, styles=styles) if task else [],
        "styles": list(styles.values()),
        "recent": review_recent_decisions(reviewer=request.user),
        "waiting": tasks_waiting_for(reviewer=request.user),
        "next_artwork_id": review_next_artwork_id(reviewer=request.user, after=task) if task else None,
        "shortcuts": KEYBOARD_SHORTCUTS,
        "error": error,
    }
    return render(request, "curation/review.html", context, status=status)


def _current_claim(request: HttpRequest) -> ReviewTask | None:
    """The task named in ?task= when the reviewer holds it (after an undo), else the next claim."""
    requested = request.GET.get("task", "")
    if requested.isdigit():
        held = ReviewTask.objects.filter(
            pk=int(requested), status=ReviewTask.Status.CLAIMED, claimed_by=request.user
        ).first()
        if held is not None:
            return held
    return review_claim_next(reviewer=request.user)


@require_GET
@role_required("curation.work_reviewtask")
def review_queue(request: HttpRequest) -> HttpResponse:
    claimed = _current_claim(request)
    task = review_task_for_page(pk=claimed.pk) if claimed else None
    return _queue_page(request, task)


def _refused(request: HttpRequest, error: ReviewError) -> HttpResponse:
    claimed = review_claim_next(reviewer=request.user) if error.code != "forbidden" else None
    task = review_task_for_page(pk=claimed.pk) if claimed else None
    return _queue_page(request, task, error=error.message, status=_ERROR_STATUS.get(error.code, 400))


def _task_or_refuse(pk: int) -> ReviewTask | None:
    return ReviewTask.objects.filter(pk=pk).first()


@require_POST
@role_required("curation.work_reviewtask")
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_refuse(pk)
    if task is None:
        return _refused(request, ReviewError("not_claimable", "That review task does not exist."))
    style_code = request.POST.get("style", "").strip()
    style = None
    if style_code:
        style = Style.objects.filter(code=style_code).first()
        if style is None:
            return _refused(request, ReviewError("invalid_style", f"There is no style called {style_code!r}."))
    try:
        resolved = review_resolve(
            task=task, reviewer=request.user, decision=request.POST.get("decision", ""), style=style
        )
    except ReviewError as error:
        return _refused(request, error)
    label = resolved.final_style.name if resolved.final_style else "not in the 27 styles"
    messages.success(request, f"Artwork #{resolved.artwork_id}: {resolved.get_decision_display()} — {label}.")
    return redirect("review-queue")


@require_POST
@role_required("curation.work_reviewtask")
def review_skip_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_refuse(pk)
    if task is None:
        return _refused(request, ReviewError("not_claimable", "That review task does not exist."))
    try:
        review_skip(task=task, reviewer=request.user)
    except ReviewError as error:
        return _refused(request, error)
    messages.info(request, f"Skipped artwork #{task.artwork_id}; it stays in the queue for the others.")
    return redirect("review-queue")


@require_POST
@role_required("curation.work_reviewtask")
def review_release_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_refuse(pk)
    if task is None:
        return _refused(request, ReviewError("not_claimable", "That review task does not exist."))
    try:
        review_release(task=task, reviewer=request.user)
    except ReviewError as error:
        return _refused(request, error)
    messages.info(request, "Released your claim; the painting is back in the queue.")
    return redirect("overview")


@require_POST
@role_required("curation.work_reviewtask")
def review_undo(request: HttpRequest) -> HttpResponse:
    try:
        task = review_undo_last(reviewer=request.user)
    except ReviewError as error:
        return _refused(request, error)
    if task is None:
        messages.info(request, "Nothing to undo.")
        return redirect("review-queue")
    messages.success(request, f"Undone: artwork #{task.artwork_id} is yours to decide again.")
    return redirect(f"{reverse('review-queue')}?task={task.pk}")


@require_GET
@role_required("curation.view_reviewtask")
def review_stats(request: HttpRequest) -> HttpResponse:
    return render(request, "curation/review_stats.html", {"nav": "stats", "stats": reviewer_stats()})
