"""Export page and the streamed CSV / JSON downloads, filtered exactly like the gallery."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from classifier.models import ModelVersion
from curation.models import Artwork, Style
from curation.selectors import FilterError, artwork_list
from curation.services.export import EXPORT_COLUMNS, artwork_export_csv, artwork_export_json
from curation.views.access import role_required
from curation.views.dashboard import gallery_filters

_FORMATS = {
    "csv": ("text/csv; charset=utf-8", artwork_export_csv),
    "json": ("application/json; charset=utf-8", artwork_export_json),
}


@require_GET
@role_required("curation.export_artwork")
def export_page(request: HttpRequest) -> HttpResponse:
    context = {
        "nav": "export",
        "filters": gallery_filters(request),
        "styles": Style.objects.all(),
        "statuses": Artwork.Status.choices,
        "label_sources": Artwork.LabelSource.choices,
        "versions": ModelVersion.objects.only("id", "name").order_by("-created_at"),
        "columns": EXPORT_COLUMNS,
        "querystring": request.GET.urlencode(),
    }
    return render(request, "curation/export.html", context)


@require_GET
@role_required("curation.export_artwork")
def export_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """Stream every matching artwork as ``fmt`` (csv or json); a bad filter is a 400 before anything streams."""
    if fmt not in _FORMATS:
        return HttpResponse("Unknown export format; use csv or json.", status=404, content_type="text/plain")
    filters = gallery_filters(request)
    filters.setdefault("sort", "oldest")
    try:
        artworks = artwork_list(**filters)
    except FilterError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    content_type, generate = _FORMATS[fmt]
    response = StreamingHttpResponse(generate(artworks=artworks), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="atelier-artworks-{stamp}.{fmt}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
