"""Overview, gallery and artwork pages: read-only, built from the shared selectors."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from classifier.drift import drift_signal
from classifier.models import ModelVersion
from curation.models import Artwork, Style
from curation.selectors import (
    ARTWORK_SORTS,
    FilterError,
    artwork_detail,
    artwork_list,
    artwork_predictions,
    artwork_review_events,
    overview_stats,
    style_by_code,
    top3_with_styles,
)
from curation.views.access import role_required

GALLERY_PAGE_SIZES = (24, 48, 96)
GALLERY_FILTERS = (
    "style",
    "verified_style",
    "status",
    "confidence_min",
    "confidence_max",
    "model_version",
    "reviewed",
    "label_source",
    "q",
    "sort",
)
SORT_LABELS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "confidence": "Least confident first",
    "-confidence": "Most confident first",
    "title": "Title",
    "artist": "Artist",
}


def gallery_filters(request: HttpRequest) -> dict[str, str]:
    """The gallery's filter values from the query string, as the selectors take them (shared with export)."""
    return {name: request.GET.get(name, "").strip() for name in GALLERY_FILTERS if request.GET.get(name, "").strip()}


@require_GET
@role_required("curation.view_artwork")
def overview(request: HttpRequest) -> HttpResponse:
    stats = overview_stats()
    status_rows = [
        {"value": value, "label": label, "count": stats["status_counts"][value]}
        for value, label in Artwork.Status.choices
    ]
    peak_style = max((row["predicted"] for row in stats["style_counts"]), default=0) or 1
    for row in stats["style_counts"]:
        row["width"] = round(100 * row["predicted"] / peak_style)
    context = {"stats": stats, "status_rows": status_rows, "nav": "overview", "drift": drift_signal()}
    return render(request, "curation/overview.html", context)


@require_GET
@role_required("curation.view_artwork")
def gallery(request: HttpRequest) -> HttpResponse:
    filters = gallery_filters(request)
    try:
        per_page = int(request.GET.get("per_page") or GALLERY_PAGE_SIZES[0])
    except ValueError:
        per_page = GALLERY_PAGE_SIZES[0]
    if per_page not in GALLERY_PAGE_SIZES:
        per_page = GALLERY_PAGE_SIZES[0]
    error = ""
    try:
        artworks = artwork_list(**filters)
    except FilterError as exc:
        error = str(exc)
        artworks = Artwork.objects.none()
    page = Paginator(artworks, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav": "gallery",
        "page": page,
        "filters": filters,
        "error": error,
        "styles": Style.objects.all(),
        "statuses": Artwork.Status.choices,
        "label_sources": Artwork.LabelSource.choices,
        "versions": ModelVersion.objects.only("id", "name").order_by("-created_at"),
        "sorts": [(key, SORT_LABELS[key]) for key in ARTWORK_SORTS],
        "page_sizes": GALLERY_PAGE_SIZES,
        "per_page": per_page,
        "querystring": query.urlencode(),
    }
    return render(request, "curation/gallery.html", context, status=400 if error else 200)


@require_GET
@role_required("curation.view_artwork")
def artwork_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        artwork = artwork_detail(pk=pk)
    except Artwork.DoesNotExist as exc:
        raise Http404("No such artwork.") from exc
    styles = style_by_code()
    predictions = list(artwork_predictions(artwork=artwork))
    for prediction in predictions:
        prediction.top3_bars = top3_with_styles(top3=prediction.top3, styles=styles)
    latest = artwork.latest_prediction
    context = {
        "nav": "gallery",
        "artwork": artwork,
        "top3": top3_with_styles(top3=latest.top3, styles=styles) if latest else [],
        "predictions": predictions,
        "events": artwork_review_events(artwork=artwork),
        "open_task": artwork.review_tasks.filter(status__in=["open", "claimed"]).first(),
    }
    return render(request, "curation/artwork.html", context)
