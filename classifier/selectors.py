"""Reads shared by the classifier's services, tasks, commands and the dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db.models import QuerySet

from classifier.models import ModelVersion
from curation.models import Artwork


def artworks_awaiting_prediction(*, artwork_ids: Sequence[int], model_version: ModelVersion) -> QuerySet[Artwork]:
    """Those of ``artwork_ids`` that still lack a prediction by ``model_version`` and are not failed."""
    return (
        Artwork.objects.filter(pk__in=list(artwork_ids))
        .exclude(status=Artwork.Status.FAILED)
        .exclude(predictions__model_version=model_version)
        .order_by("pk")
    )


def artworks_pending_since(*, before: datetime) -> QuerySet[Artwork]:
    """Artworks still pending that were last touched before ``before`` (the sweep's candidates)."""
    return Artwork.objects.filter(status=Artwork.Status.PENDING, updated_at__lt=before).order_by("pk")


def artworks_for_reclassification(
    *, statuses: Sequence[str] = (), style_codes: Sequence[str] = (), model_version_names: Sequence[str] = ()
) -> QuerySet[Artwork]:
    """Artworks selected by status, by predicted or verified style, or by the version of their latest prediction."""
    queryset = Artwork.objects.all()
    if statuses:
        queryset = queryset.filter(status__in=list(statuses))
    if style_codes:
        from django.db.models import Q

        queryset = queryset.filter(
            Q(predicted_style__code__in=list(style_codes)) | Q(verified_style__code__in=list(style_codes))
        )
    if model_version_names:
        queryset = queryset.filter(latest_prediction__model_version__name__in=list(model_version_names))
    return queryset.order_by("pk")


def model_loading_problems() -> QuerySet[ModelVersion]:
    """Versions refused because their checkpoint failed verification, newest first, with ``refused_reason``."""
    return ModelVersion.objects.filter(status=ModelVersion.Status.REFUSED).order_by("-created_at", "-id")
