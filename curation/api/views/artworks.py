"""Artworks: the gallery's list, uploads with per-file reports, detail, image downloads."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.conditional import conditional_response
from config.api.errors import ApiError
from config.api.permissions import RolePermission
from config.api.throttling import UploadThrottle
from curation.api import examples
from curation.api.serializers import (
    ArtworkDetailSerializer,
    ArtworkListSerializer,
    ArtworkUploadSerializer,
    UploadReportSerializer,
)
from curation.api.uploads import artwork_upload_batch
from curation.models import Artwork
from curation.selectors import ARTWORK_SORTS, artwork_detail, artwork_list

_LIST_PARAMETERS = [
    OpenApiParameter("style", str, description="Predicted style code, e.g. `Baroque`."),
    OpenApiParameter("verified_style", str, description="Verified style code."),
    OpenApiParameter("status", str, enum=Artwork.Status.values),
    OpenApiParameter("label_source", str, enum=Artwork.LabelSource.values),
    OpenApiParameter("confidence_min", float, description="0–1."),
    OpenApiParameter("confidence_max", float, description="0–1."),
    OpenApiParameter("model_version", int, description="Id of the version that made the latest prediction."),
    OpenApiParameter("reviewed", bool),
    OpenApiParameter("q", str, description="Search in title and artist."),
    OpenApiParameter("sort", str, enum=list(ARTWORK_SORTS), description="Default `newest`."),
]
_FILTER_NAMES = [parameter.name for parameter in _LIST_PARAMETERS]


@extend_schema(tags=["artworks"])
class ArtworkListCreateView(generics.ListAPIView):
    """The collection with the gallery's filters; POST uploads one or several images."""

    permission_classes = [RolePermission]
    required_permissions = {"GET": ("curation.view_artwork",), "POST": ("curation.add_artwork",)}
    serializer_class = ArtworkListSerializer
    parser_classes = [MultiPartParser, FormParser]
    filter_backends: list = []

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(UploadThrottle())
        return throttles

    def get_queryset(self):
        filters = {name: self.request.query_params.get(name) for name in _FILTER_NAMES}
        return artwork_list(**filters)

    @extend_schema(
        summary="List artworks",
        parameters=_LIST_PARAMETERS,
        examples=[examples.response("One artwork waiting for review", examples.ARTWORK)],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Upload artworks",
        description=(
            "Send one or several `file` parts (multipart/form-data). Each file is checked by decoding it: JPEG, "
            "PNG or WebP, at most 10 MB, 150–8192 px per side. The report says per file whether it was "
            "`accepted` (a new artwork, queued for classification), a `duplicate` (the same bytes are already "
            "stored: that artwork is returned) or `rejected` (with the reason). 201 when at least one file was "
            "accepted, 200 when all were duplicates; when every file is rejected, 400 with the reasons per file."
        ),
        request={"multipart/form-data": ArtworkUploadSerializer},
        responses={
            201: UploadReportSerializer,
            200: UploadReportSerializer,
            400: OpenApiResponse(description="Every file was rejected, or the form is invalid."),
        },
        examples=[
            OpenApiExample(
                "Two files with metadata",
                request_only=True,
                value={"file": ["(binary)", "(binary)"], "title": "", "artist": "Vincent van Gogh", "source": "MoMA"},
            ),
            OpenApiExample(
                "One accepted, one rejected",
                response_only=True,
                status_codes=["201"],
                value={
                    "accepted": 1,
                    "duplicates": 0,
                    "rejected": 1,
                    "results": [
                        {
                            "filename": "monet.jpg",
                            "outcome": "accepted",
                            "artwork": {
                                "id": 41,
                                "title": "",
                                "artist": "",
                                "year": None,
                                "source": "",
                                "status": "pending",
                                "predicted_style": None,
                                "confidence": None,
                                "verified_style": None,
                                "label_source": "none",
                                "format": "JPEG",
                                "width": 1024,
                                "height": 768,
                                "created_at": "2026-12-04T20:15:00Z",
                                "updated_at": "2026-12-04T20:15:00Z",
                                "links": {
                                    "self": "/api/v1/artworks/41/",
                                    "image": "/api/v1/artworks/41/image/",
                                    "thumbnail": "/api/v1/artworks/41/thumbnail/",
                                    "predictions": "/api/v1/artworks/41/predictions/",
                                },
                            },
                            "error": None,
                        },
                        {
                            "filename": "logo.gif",
                            "outcome": "rejected",
                            "artwork": None,
                            "error": {
                                "code": "unsupported_format",
                                "message": "This is not a JPEG, PNG or WebP image (the file's content was checked).",
                            },
                        },
                    ],
                },
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = ArtworkUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        outcomes = artwork_upload_batch(
            files=data["file"],
            uploaded_by=request.user,
            title=data["title"],
            artist=data["artist"],
            year=data.get("year"),
            source=data["source"],
        )
        results = [
            {
                "filename": outcome.filename,
                "outcome": outcome.outcome,
                "artwork": ArtworkListSerializer(outcome.artwork).data if outcome.artwork else None,
                "error": {"code": outcome.error.code, "message": outcome.error.message} if outcome.error else None,
            }
            for outcome in outcomes
        ]
        counts = {outcome: sum(r["outcome"] == outcome for r in results) for outcome in ("accepted", "duplicate")}
        rejected = [r for r in results if r["outcome"] == "rejected"]
        if len(rejected) == len(results):
            first = rejected[0]["error"]
            raise ApiError(
                status_code=status.HTTP_400_BAD_REQUEST,
                code=first["code"] if len(rejected) == 1 else "all_rejected",
                message=first["message"] if len(rejected) == 1 else "None of the files could be accepted.",
                fields={"file": [f"{r['filename']}: {r['error']['message']}" for r in rejected]},
            )
        report = {
            "accepted": counts["accepted"],
            "duplicates": counts["duplicate"],
            "rejected": len(rejected),
            "results": results,
        }
        return Response(report, status=status.HTTP_201_CREATED if counts["accepted"] else status.HTTP_200_OK)


@extend_schema(tags=["artworks"])
class ArtworkDetailView(APIView):
    permission_classes = [RolePermission]
    required_permissions = {"GET": ("curation.view_artwork",)}

    @extend_schema(
        summary="An artwork with its latest prediction and review state",
        description=(
            "`latest_prediction` is null until a model has classified the artwork; poll this endpoint (sending "
            "the previous `ETag` in `If-None-Match` makes an unchanged answer a cheap 304)."
        ),
        responses={200: ArtworkDetailSerializer, 304: OpenApiResponse(description="Not modified.")},
        examples=[examples.response("Predicted, waiting for review", examples.ARTWORK_DETAIL)],
    )
    def get(self, request: Request, pk: int) -> Response:
        try:
            artwork = artwork_detail(pk=pk)
        except Artwork.DoesNotExist as error:
            raise ApiError(status_code=404, code="not_found", message="No artwork with this id.") from error
        task = artwork.review_tasks.select_related("final_style").order_by("-created_at", "-id").first()
        data = ArtworkDetailSerializer(artwork, context={"review_task": task}).data
        moments = [artwork.updated_at]
        if task is not None:
            moments.append(task.updated_at)
        if artwork.latest_prediction is not None:
            moments.append(artwork.latest_prediction.created_at)
        return conditional_response(request, data, last_modified=max(moments))


class _ArtworkFileView(APIView):
    permission_classes = [RolePermission]
    required_permissions = {"GET": ("curation.view_artwork",)}

    def perform_content_negotiation(self, request, force=False):
        # Clients ask for image/* here; errors are still answered in JSON whatever the Accept header says.
        return super().perform_content_negotiation(request, force=True)

    def file_response(self, request: Request, pk: int, *, field: str) -> FileResponse | Response:
        artwork = get_object_or_404(Artwork.objects.only(field, "sha256", "format"), pk=pk)
        # The stored bytes never change for an artwork: its sha256 (and the derivative's kind) is a strong ETag.
        etag = f'"{artwork.sha256[:32]}-{field}"'
        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        stored = getattr(artwork, field)
        if field == "original":
            extension = stored.name.rsplit(".", 1)[-1]
            response = FileResponse(
                default_storage.open(stored.name, "rb"),
                content_type="application/octet-stream",
                as_attachment=True,
                filename=f"artwork-{pk}.{extension}",
            )
        else:
            response = FileResponse(default_storage.open(stored.name, "rb"), content_type="image/jpeg")
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=86400"
        response["ETag"] = etag
        return response


@extend_schema(tags=["artworks"])
class ArtworkImageView(_ArtworkFileView):
    @extend_schema(
        summary="Download the original image",
        description="The bytes as uploaded, as an attachment (`application/octet-stream`).",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, pk: int):
        return self.file_response(request, pk, field="original")


@extend_schema(tags=["artworks"])
class ArtworkThumbnailView(_ArtworkFileView):
    @extend_schema(
        summary="Download the thumbnail",
        description="A JPEG of at most 320 px on its longer side.",
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, pk: int):
        return self.file_response(request, pk, field="thumbnail")
