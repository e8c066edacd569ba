"""Routing a stored prediction: auto-accept it, or send the artwork to the human review queue.

Runs inside the transaction that stored the prediction, with the artwork row locked by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from classifier.models import Prediction
from curation.models import Artwork, ReviewEvent, ReviewTask, Style


class Route:
    AUTO_ACCEPTED = "auto_accepted"
    REVIEW_OPENED = "review_opened"
    REVIEW_UPDATED = "review_updated"
    HUMAN_DECIDED = "human_decided"


@dataclass(frozen=True)
class RoutingOutcome:
    route: str
    review_threshold: float
    review_task: ReviewTask | None = None


def review_threshold_for(*, style: Style, prediction: Prediction) -> float:
    """Per-style override, else the deployment-wide setting, else the model version's own threshold."""
    if style.review_threshold is not None:
        return style.review_threshold
    deployment = settings.ATELIER.get("REVIEW_THRESHOLD")
    if deployment is not None:
        return float(deployment)
    return prediction.model_version.review_threshold


def prediction_route(*, prediction: Prediction, artwork: Artwork) -> RoutingOutcome:
    """Apply ``prediction`` to its (locked) artwork and open or update a review task when it is uncertain.

    - A human decision is never overridden: a reviewed artwork (or one labelled by a reviewer) keeps
      everything; the prediction is only recorded.
    - An open or claimed review task is updated in place (prediction, priority, an ``updated`` event), never
      duplicated; the artwork stays in review whatever the new confidence, because a person is on it.
    - Otherwise confidence below the threshold opens a task (priority = confidence: least confident first);
      at or above it the artwork is auto-accepted (``classified``; the verified style stays empty).
    """
    style = prediction.predicted_style
    threshold = review_threshold_for(style=style, prediction=prediction)
    if artwork.status == Artwork.Status.REVIEWED or artwork.label_source == Artwork.LabelSource.REVIEWER:
        return RoutingOutcome(route=Route.HUMAN_DECIDED, review_threshold=threshold)

    previous_style = artwork.predicted_style
    artwork.latest_prediction = prediction
    artwork.predicted_style = style
    artwork.confidence = prediction.confidence
    artwork.failure_reason = ""

    task = (
        ReviewTask.objects.select_for_update()
        .filter(artwork=artwork, status__in=[ReviewTask.Status.OPEN, ReviewTask.Status.CLAIMED])
        .first()
    )
    if task is not None:
        task.prediction = prediction
        task.priority = prediction.confidence
        task.save(update_fields=["prediction", "priority", "updated_at"])
        ReviewEvent.objects.create(
            task=task,
            artwork=artwork,
            action=ReviewEvent.Action.UPDATED,
            from_style=previous_style,
            to_style=style,
            note=f"newer prediction by {prediction.model_version.name} ({prediction.confidence:.3f})",
        )
        artwork.status = Artwork.Status.NEEDS_REVIEW
        route = Route.REVIEW_UPDATED
    elif prediction.confidence < threshold:
        task = ReviewTask.objects.create(artwork=artwork, prediction=prediction, priority=prediction.confidence)
        ReviewEvent.objects.create(
            task=task,
            artwork=artwork,
            action=ReviewEvent.Action.OPENED,
            to_style=style,
            note=f"confidence {prediction.confidence:.3f} below threshold {threshold:.3f}",
        )
        artwork.status = Artwork.Status.NEEDS_REVIEW
        route = Route.REVIEW_OPENED
    else:
        artwork.status = Artwork.Status.CLASSIFIED
        route = Route.AUTO_ACCEPTED
    artwork.save(
        update_fields=["latest_prediction", "predicted_style", "confidence", "status", "failure_reason", "updated_at"]
    )
    return RoutingOutcome(route=route, review_threshold=threshold, review_task=task)
