"""Upload page and its two JSON endpoints: one file per request (so the browser can show each file's progress),
and a status poll that reports predictions as they arrive."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from curation.models import Artwork
from curation.services.ingest import IngestError, artwork_ingest
from curation.views.access import role_required

STATUS_POLL_MAX_IDS = 200


@require_GET
@role_required("curation.add_artwork")
def upload_page(request: HttpRequest) -> HttpResponse:
    return render(request, "curation/upload.html", {"nav": "upload", "poll_max": STATUS_POLL_MAX_IDS})


@require_POST
@role_required("curation.add_artwork")
def upload_file(request: HttpRequest) -> JsonResponse:
    """Ingest the one file in field ``file``: 201 accepted, 200 duplicate of an existing artwork, 400 refused."""
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse(
            {"result": "rejected", "code": "no_file", "message": "No file was sent (form field 'file')."}, status=400
        )
    try:
        outcome = artwork_ingest(
            file=upload,
            uploaded_by=request.user,
            filename=upload.name,
            title=request.POST.get("title", "").strip(),
            artist=request.POST.get("artist", "").strip(),
        )
    except IngestError as error:
        return JsonResponse(
            {"result": "rejected", "code": error.code, "message": error.message, "filename": upload.name}, status=400
        )
    artwork = outcome.artwork
    return JsonResponse(
        {
            "result": "accepted" if outcome.created else "duplicate",
            "artwork_id": artwork.pk,
            "filename": upload.name,
            "url": reverse("artwork-page", args=[artwork.pk]),
            "thumbnail": reverse("artwork-thumbnail", args=[artwork.pk]),
            "message": "Stored; waiting for the classifier."
            if outcome.created
            else f"Already in the collection as #{artwork.pk}.",
        },
        status=201 if outcome.created else 200,
    )


@require_GET
@role_required("curation.view_artwork")
def upload_status(request: HttpRequest) -> JsonResponse:
    """Status and prediction of the artworks in ``ids`` (comma separated), for the upload page's poll."""
    raw_ids = [part for part in request.GET.get("ids", "").split(",") if part.strip()]
    try:
        ids = sorted({int(part) for part in raw_ids})
    except ValueError:
        return JsonResponse({"error": "ids must be comma-separated numbers."}, status=400)
    if len(ids) > STATUS_POLL_MAX_IDS:
        return JsonResponse({"error": f"At most {STATUS_POLL_MAX_IDS} ids per request."}, status=400)
    artworks = Artwork.objects.filter(pk__in=ids).select_related("predicted_style")
    return JsonResponse(
        {
            "artworks": [
                {
                    "id": artwork.pk,
                    "status": artwork.status,
                    "status_display": artwork.get_status_display(),
                    "predicted_style": artwork.predicted_style.name if artwork.predicted_style else None,
                    "confidence": artwork.confidence,
                    "failure_reason": artwork.failure_reason,
                    "done": artwork.status != Artwork.Status.PENDING,
                }
                for artwork in artworks
            ]
        }
    )
