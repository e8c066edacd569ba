"""Reads shared by the pages, the REST API and the export: plain keyword filters in, querysets or dicts out."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection
from django.db.models import Aggregate, Count, Exists, F, FloatField, Max, Min, OuterRef, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from classifier.models import ModelVersion, Prediction
from classifier.selectors import model_loading_problems
from curation.models import Artwork, ReviewEvent, ReviewTask, Style

# Sort keys the gallery, API and export accept, mapped to index-friendly orderings (a tiebreak on id keeps
# pagination stable).
ARTWORK_SORTS: dict[str, tuple[str, ...]] = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "confidence": (F("confidence").asc(nulls_last=True), "id"),
    "-confidence": (F("confidence").desc(nulls_last=True), "-id"),
    "title": ("title", "id"),
    "artist": ("artist", "title", "id"),
}
CONFIDENCE_BINS = 10


class FilterError(ValueError):
    """A filter value could not be understood; the message is written for the person who typed it."""


def _parse_float(name: str, value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise FilterError(f"{name} must be a number between 0 and 1.") from exc
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise FilterError(f"{name} must be a number between 0 and 1.")
    return number


def _parse_bool(name: str, value: Any) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise FilterError(f"{name} must be yes or no.")


def _parse_int(name: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise FilterError(f"{name} must be a whole number.") from exc


def artwork_list(
    *,
    style: str | None = None,
    verified_style: str | None = None,
    status: str | None = None,
    confidence_min: float | str | None = None,
    confidence_max: float | str | None = None,
    model_version: int | str | None = None,
    reviewed: bool | str | None = None,
    label_source: str | None = None,
    q: str | None = None,
    sort: str | None = None,
) -> QuerySet[Artwork]:
    """Artworks filtered on the denormalised, indexed columns of Artwork; related rows joined, not N+1.

    ``style``/``verified_style`` are style codes; ``model_version`` the id of the version that made the latest
    prediction; ``reviewed`` whether a reviewer has decided; ``q`` searches title and artist. Raises FilterError
    for a value that makes no sense (so callers answer 400, never 500).
    """
    queryset = Artwork.objects.select_related("predicted_style", "verified_style", "latest_prediction")
    if style:
        queryset = queryset.filter(predicted_style__code=style)
    if verified_style:
        queryset = queryset.filter(verified_style__code=verified_style)
    if status:
        if status not in Artwork.Status.values:
            raise FilterError(f"Unknown status {status!r}.")
        queryset = queryset.filter(status=status)
    if label_source:
        if label_source not in Artwork.LabelSource.values:
            raise FilterError(f"Unknown label source {label_source!r}.")
        queryset = queryset.filter(label_source=label_source)
    low = _parse_float("Minimum confidence", confidence_min)
    high = _parse_float("Maximum confidence", confidence_max)
    if low is not None:
        queryset = queryset.filter(confidence__gte=low)
    if high is not None:
        queryset = queryset.filter(confidence__lte=high)
    version_id = _parse_int("Model version", model_version)
    if version_id is not None:
        queryset = queryset.filter(latest_prediction__model_version_id=version_id)
    is_reviewed = _parse_bool("Reviewed", reviewed)
    if is_reviewed is True:
        queryset = queryset.filter(status=Artwork.Status.REVIEWED)
    elif is_reviewed is False:
        queryset = queryset.exclude(status=Artwork.Status.REVIEWED)
    if q:
        text = q.strip()[:200]
        queryset = queryset.filter(Q(title__icontains=text) | Q(artist__icontains=text))
    sort_key = sort or "newest"
    if sort_key not in ARTWORK_SORTS:
        raise FilterError(f"Unknown sort {sort_key!r}; use one of {', '.join(ARTWORK_SORTS)}.")
    return queryset.order_by(*ARTWORK_SORTS[sort_key])


def artwork_detail(*, pk: int) -> Artwork:
    """One artwork with what its page shows joined in; raises Artwork.DoesNotExist."""
    return Artwork.objects.select_related(
        "predicted_style", "verified_style", "uploaded_by", "latest_prediction__model_version"
    ).get(pk=pk)


def artwork_predictions(*, artwork: Artwork) -> QuerySet[Prediction]:
    """The prediction history across model versions, newest first."""
    return artwork.predictions.select_related("model_version", "predicted_style").order_by("-created_at", "-id")


def artwork_review_events(*, artwork: Artwork) -> QuerySet[ReviewEvent]:
    """Who decided what on this artwork, and when; newest first."""
    return artwork.review_events.select_related("actor", "from_style", "to_style").order_by("-created_at", "-id")


def style_by_code() -> dict[str, Style]:
    return {style.code: style for style in Style.objects.all()}


def top3_with_styles(*, top3: list[dict], styles: dict[str, Style] | None = None) -> list[dict]:
    """The stored top-3 list with Style rows and percentages, for probability bars."""
    styles = styles if styles is not None else style_by_code()
    return [
        {
            "style": styles.get(entry["style"]),
            "code": entry["style"],
            "prob": float(entry["prob"]),
            "percent": round(float(entry["prob"]) * 100, 1),
        }
        for entry in top3
    ]


# --- Review queue -----------------------------------------------------------------------------------------------


def review_tasks_for_claim(*, now: datetime | None = None) -> QuerySet[ReviewTask]:
    """Claimable tasks (open, or claimed with an expired lease), least confident first, locked for update.

    ``SKIP LOCKED``: a reviewer never waits for, nor receives, a row another reviewer is claiming right now.
    Use inside ``transaction.atomic()``.
    """
    now = now or timezone.now()
    return (
        ReviewTask.objects.filter(
            Q(status=ReviewTask.Status.OPEN) | Q(status=ReviewTask.Status.CLAIMED, lease_expires_at__lte=now)
        )
        .select_for_update(skip_locked=True)
        .order_by("priority", "created_at", "id")
    )


def review_task_for_page(*, pk: int) -> ReviewTask:
    """A task with its artwork, prediction and styles joined, for the review page and API."""
    return ReviewTask.objects.select_related(
        "artwork__predicted_style",
        "artwork__verified_style",
        "prediction__model_version",
        "prediction__predicted_style",
        "claimed_by",
        "final_style",
    ).get(pk=pk)


def review_queue_summary() -> dict[str, Any]:
    """Queue depth (open + claimed), how many are claimed, and the oldest waiting task's creation time."""
    now = timezone.now()
    waiting = ReviewTask.objects.filter(status__in=[ReviewTask.Status.OPEN, ReviewTask.Status.CLAIMED])
    summary = waiting.aggregate(
        depth=Count("id"),
        claimed=Count("id", filter=Q(status=ReviewTask.Status.CLAIMED, lease_expires_at__gt=now)),
        oldest=Min("created_at"),
    )
    summary["oldest_age_seconds"] = (now - summary["oldest"]).total_seconds() if summary["oldest"] else None
    return summary


def review_recent_decisions(*, reviewer: AbstractBaseUser, limit: int = 10) -> QuerySet[ReviewEvent]:
    return (
        ReviewEvent.objects.filter(actor=reviewer, action__in=["accepted", "corrected", "not_in_taxonomy", "undone"])
        .select_related("artwork", "from_style", "to_style")
        .order_by("-created_at", "-id")[:limit]
    )


def reviewer_stats() -> dict[str, Any]:
    """Decisions per reviewer and, per predicted style, how often reviewers agreed with the model.

    Counted from the tasks as they stand (an undone decision no longer counts).
    """
    resolved = ReviewTask.objects.filter(status=ReviewTask.Status.RESOLVED)
    per_reviewer = list(
        resolved.values("resolved_by__id", "resolved_by__username")
        .annotate(
            total=Count("id"),
            accepted=Count("id", filter=Q(decision=ReviewTask.Decision.ACCEPTED)),
            corrected=Count("id", filter=Q(decision=ReviewTask.Decision.CORRECTED)),
            not_in_taxonomy=Count("id", filter=Q(decision=ReviewTask.Decision.NOT_IN_TAXONOMY)),
            last_decision_at=Max("resolved_at"),
        )
        .order_by("-total", "resolved_by__username")
    )
    for row in per_reviewer:
        row["username"] = row.pop("resolved_by__username") or "(deleted user)"
        row["user_id"] = row.pop("resolved_by__id")
        row["agreement"] = row["accepted"] / row["total"] if row["total"] else None
    per_style = list(
        resolved.values("prediction__predicted_style__code", "prediction__predicted_style__name")
        .annotate(
            total=Count("id"),
            accepted=Count("id", filter=Q(decision=ReviewTask.Decision.ACCEPTED)),
            corrected=Count("id", filter=Q(decision=ReviewTask.Decision.CORRECTED)),
            not_in_taxonomy=Count("id", filter=Q(decision=ReviewTask.Decision.NOT_IN_TAXONOMY)),
        )
        .order_by("prediction__predicted_style__class_index")
    )
    for row in per_style:
        row["code"] = row.pop("prediction__predicted_style__code")
        row["name"] = row.pop("prediction__predicted_style__name")
        row["agreement"] = row["accepted"] / row["total"] if row["total"] else None
    total = sum(row["total"] for row in per_reviewer)
    accepted = sum(row["accepted"] for row in per_reviewer)
    return {
        "per_reviewer": per_reviewer,
        "per_style": per_style,
        "total_decisions": total,
        "overall_agreement": accepted / total if total else None,
    }


# --- Overview -----------------------------------------------------------------------------------------------------


def _percentiles(values: list[float], quantiles: tuple[float, ...]) -> dict[str, float | None]:
    """Linear-interpolated percentiles (the same definition as PostgreSQL's percentile_cont)."""
    result: dict[str, float | None] = {}
    ordered = sorted(values)
    for quantile in quantiles:
        key = f"p{round(quantile * 100)}"
        if not ordered:
            result[key] = None
            continue
        position = quantile * (len(ordered) - 1)
        lower = math.floor(position)
        upper = min(lower + 1, len(ordered) - 1)
        result[key] = ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)
    return result


class _PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate ``percentile_cont(q) WITHIN GROUP (ORDER BY expr)``."""

    function = "percentile_cont"
    output_field = FloatField()

    def __init__(self, expression: str, *, quantile: float) -> None:
        # The quantile is a float we choose, never user input; formatting it into the template is safe.
        self.template = f"%(function)s({float(quantile)!r}) WITHIN GROUP (ORDER BY %(expressions)s)"
        super().__init__(expression)


def prediction_latency_percentiles(*, since: datetime) -> dict[str, float | None]:
    """p50/p95/p99 of Prediction.latency_ms since ``since``, computed in the database on PostgreSQL."""
    quantiles = (0.5, 0.95, 0.99)
    if connection.vendor == "postgresql":
        return Prediction.objects.filter(created_at__gte=since).aggregate(
            **{f"p{round(q * 100)}": _PercentileCont("latency_ms", quantile=q) for q in quantiles}
        )
    latencies = list(Prediction.objects.filter(created_at__gte=since).values_list("latency_ms", flat=True))
    return _percentiles(latencies, quantiles)


def confidence_histogram(*, bins: int = CONFIDENCE_BINS) -> list[dict[str, Any]]:
    """Artworks per confidence bin of their latest prediction, in one query; the last bin includes 1.0."""
    aggregates = {}
    for index in range(bins):
        low, high = index / bins, (index + 1) / bins
        upper = Q(confidence__lte=high) if index == bins - 1 else Q(confidence__lt=high)
        aggregates[f"bin{index}"] = Count("id", filter=Q(confidence__gte=low) & upper)
    counts = Artwork.objects.filter(confidence__isnull=False).aggregate(**aggregates)
    peak = max(counts.values(), default=0) or 1
    return [
        {
            "low": index / bins,
            "high": (index + 1) / bins,
            "count": counts[f"bin{index}"],
            "height": round(100 * counts[f"bin{index}"] / peak),
        }
        for index in range(bins)
    ]


def style_counts() -> list[dict[str, Any]]:
    """Per style: artworks predicted as it and artworks verified as it (27 rows, class order).

    Two GROUP BYs over Artwork's indexed style columns; annotating both counts on Style would join the two
    relations and multiply their rows.
    """
    predicted = dict(
        Artwork.objects.filter(predicted_style__isnull=False)
        .values_list("predicted_style")
        .annotate(n=Count("id"))
        .order_by()
    )
    verified = dict(
        Artwork.objects.filter(verified_style__isnull=False)
        .values_list("verified_style")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [
        {"code": code, "name": name, "predicted": predicted.get(pk, 0), "verified": verified.get(pk, 0)}
        for pk, code, name in Style.objects.order_by("class_index").values_list("pk", "code", "name")
    ]


def model_headline(version: ModelVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    metrics = version.metrics or {}
    ci = metrics.get("macro_f1_ci95")
    return {
        "id": version.pk,
        "name": version.name,
        "architecture": version.architecture,
        "activated_at": version.activated_at,
        "review_threshold": version.review_threshold,
        "temperature": version.temperature,
        "accuracy": metrics.get("accuracy"),
        "macro_f1": metrics.get("macro_f1"),
        "macro_f1_ci95": list(ci) if isinstance(ci, list | tuple) and len(ci) == 2 else None,
        "ece": metrics.get("ece"),
    }


def overview_stats(*, now: datetime | None = None) -> dict[str, Any]:
    """Everything the overview page (and GET /api/v1/stats) shows, as plain values."""
    now = now or timezone.now()
    since = now - timedelta(hours=24)
    by_status = dict(Artwork.objects.values_list("status").annotate(n=Count("id")).order_by())
    status_counts = {value: by_status.get(value, 0) for value in Artwork.Status.values}
    hourly = dict(
        Prediction.objects.filter(created_at__gte=since)
        .annotate(hour=TruncHour("created_at"))
        .values_list("hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    start_hour = (now - timedelta(hours=23)).replace(minute=0, second=0, microsecond=0)
    predictions_per_hour = [
        {"hour": start_hour + timedelta(hours=offset), "count": hourly.get(start_hour + timedelta(hours=offset), 0)}
        for offset in range(24)
    ]
    peak_hour = max((row["count"] for row in predictions_per_hour), default=0) or 1
    for row in predictions_per_hour:
        row["height"] = round(100 * row["count"] / peak_hour)
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    refused = list(model_loading_problems().values("id", "name", "refused_reason", "created_at"))
    return {
        "generated_at": now,
        "total_artworks": sum(status_counts.values()),
        "status_counts": status_counts,
        "queue": review_queue_summary(),
        "predictions_last_24h": sum(hourly.values()),
        "predictions_last_hour": Prediction.objects.filter(created_at__gte=now - timedelta(hours=1)).count(),
        "predictions_per_hour": predictions_per_hour,
        "latency_ms": prediction_latency_percentiles(since=since),
        "confidence_histogram": confidence_histogram(),
        "style_counts": style_counts(),
        "active_model": model_headline(active),
        "model_problems": refused,
    }


def model_versions_with_counts() -> QuerySet[ModelVersion]:
    """Versions for the models page, each with its number of predictions."""
    return ModelVersion.objects.select_related("training_run").annotate(prediction_count=Count("predictions"))


def review_next_artwork_id(*, reviewer: AbstractBaseUser, after: ReviewTask | None) -> int | None:
    """The artwork the reviewer will most likely get next (not claimed, only peeked), so that the page can
    prefetch its image and the next painting appears at once after a decision."""
    now = timezone.now()
    skipped = ReviewEvent.objects.filter(task=OuterRef("pk"), actor=reviewer, action=ReviewEvent.Action.SKIPPED)
    candidates = ReviewTask.objects.filter(
        Q(status=ReviewTask.Status.OPEN) | Q(status=ReviewTask.Status.CLAIMED, lease_expires_at__lte=now)
    ).filter(~Exists(skipped))
    if after is not None:
        candidates = candidates.exclude(pk=after.pk)
    return candidates.order_by("priority", "created_at", "id").values_list("artwork_id", flat=True).first()


def tasks_waiting_for(*, reviewer: AbstractBaseUser) -> int:
    """How many claimable tasks this reviewer could still be offered (not counting ones they skipped)."""
    now = timezone.now()
    skipped = ReviewEvent.objects.filter(task=OuterRef("pk"), actor=reviewer, action=ReviewEvent.Action.SKIPPED)
    return (
        ReviewTask.objects.filter(
            Q(status=ReviewTask.Status.OPEN) | Q(status=ReviewTask.Status.CLAIMED, lease_expires_at__lte=now)
        )
        .filter(~Exists(skipped))
        .count()
    )
