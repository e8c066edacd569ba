"""Image serving. Media is never exposed by URL; every image goes through an authenticated view."""

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from curation.models import Artwork


def _file_response(name: str, *, content_type: str, as_attachment: bool, filename: str = "") -> FileResponse:
    response = FileResponse(
        default_storage.open(name, "rb"), content_type=content_type, as_attachment=as_attachment, filename=filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
@require_GET
def artwork_display(request: HttpRequest, pk: int) -> FileResponse:
    """The re-encoded display image: the only full-size image a page ever shows."""
    artwork = get_object_or_404(Artwork.objects.only("display_image"), pk=pk)
    return _file_response(artwork.display_image.name, content_type="image/jpeg", as_attachment=False)


@login_required
@require_GET
def artwork_thumbnail(request: HttpRequest, pk: int) -> FileResponse:
    artwork = get_object_or_404(Artwork.objects.only("thumbnail"), pk=pk)
    return _file_response(artwork.thumbnail.name, content_type="image/jpeg", as_attachment=False)


@login_required
@require_GET
def artwork_original(request: HttpRequest, pk: int) -> FileResponse:
    """The original bytes, only ever as a download, so that hidden payloads cannot run in a browser."""
    artwork = get_object_or_404(Artwork.objects.only("original", "format"), pk=pk)
    extension = artwork.original.name.rsplit(".", 1)[-1]
    return _file_response(
        artwork.original.name,
        content_type="application/octet-stream",
        as_attachment=True,
        filename=f"artwork-{pk}.{extension}",
    )
