"""API views of the collection and the review queue. Thin: validate, call one service or selector, shape output."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.conditional import conditional_response
from config.api.errors import ApiError
from config.api.permissions import RolePermission
from config.api.throttling import UploadThrottle
from config.api.tokens import api_token_issue
from curation.api import examples
from curation.api.serializers import (
    ArtworkDetailSerializer,
    ArtworkListSerializer,
    ArtworkUploadSerializer,
    OverviewStatsSerializer,
    ReviewResolveSerializer,
    ReviewTaskSerializer,
    StyleSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UploadReportSerializer,
)
from curation.models import Artwork, ReviewTask, Style
from curation.selectors import ARTWORK_SORTS, artwork_detail, artwork_list, overview_stats, review_task_for_page
from curation.services.ingest import IngestError, artwork_ingest
from curation.services.review import review_claim_next, review_release, review_resolve, review_skip, review_undo_last

_TOP3_EXAMPLE = [
    {"style": "Impressionism", "prob": 0.41},
    {"style": "Post_Impressionism", "prob": 0.32},
    {"style": "Realism", "prob": 0.09},
]

# --- Tokens --------------------------------------------------------------------------------------------------------


@extend_schema(tags=["auth"])
class TokenObtainView(APIView):
    """Exchange a username and password for the user's API token (the same token on every call)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        summary="Get an API token",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, 400: OpenApiResponse(description="Wrong username or password.")},
        auth=[],
        examples=[
            OpenApiExample("Request", request_only=True, value={"username": "alice", "password": "s3cret-pass"}),
            OpenApiExample("Response", response_only=True, value={"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None:
            raise ApiError(
                status_code=status.HTTP_400_BAD_REQUEST,
                code="invalid_credentials",
                message="Unable to sign in with these credentials.",
            )
        token, _ = api_token_issue(user=user)
        return Response({"token": token.key})


# --- Styles and overview -------------------------------------------------------------------------------------------


@extend_schema(tags=["styles"])
class StyleListView(generics.ListAPIView):
    """The 27 WikiArt styles in ArtGAN class order; their ``code`` is what every other endpoint uses."""

    permission_classes = [RolePermission]
    required_permissions = {"GET": ("curation.view_style",)}
    serializer_class = StyleSerializer
    pagination_class = None
    queryset = Style.objects.order_by("class_index")

    @extend_schema(
        summary="List the styles",
        examples=[
            examples.response(
                "The first style",
                {
                    "code": "Abstract_Expressionism",
                    "name": "Abstract Expressionism",
                    "class_index": 0,
                    "review_threshold": None,
                },
            )
        ],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["stats"])
class StatsView(APIView):
    """The overview page's figures: counts by status, queue, throughput, latency, confidence, active model."""

    permission_classes = [RolePermission]
    required_permissions = {"GET": ("curation.view_artwork",)}

    @extend_schema(
        summary="Overview figures",
        responses={200: OverviewStatsSerializer},
        examples=[examples.response("A working day", examples.STATS)],
    )
    def get(self, request: Request) -> Response:
        return Response(OverviewStatsSerializer(overview_stats()).data)


# --- Artworks ------------------------------------------------------------------------------------------------------

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
        results = []
        for upload in data["file"]:
            try:
                result = artwork_ingest(
                    file=upload,
                    uploaded_by=request.user,
                    filename=upload.name or "",
                    title=data["title"],
                    artist=data["artist"],
                    year=data.get("year"),
                    source=data["source"],
                )
            except IngestError as error:
                results.append(
                    {
                        "filename": upload.name or "",
                        "outcome": "rejected",
                        "artwork": None,
                        "error": {"code": error.code, "message": error.message},
                    }
                )
                continue
            results.append(
                {
                    "filename": upload.name or "",
                    "outcome": "accepted" if result.created else "duplicate",
                    "artwork": ArtworkListSerializer(result.artwork).data,
                    "error": None,
                }
            )
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


# --- Review queue ----------------------------------------------------------------------------------------------------


@extend_schema(tags=["reviews"])
class ReviewTaskListView(generics.ListAPIView):
    """Review tasks, most urgent (least confident) first. Filter with ``?status=open|claimed|resolved|skipped``."""

    permission_classes = [RolePermission]
    required_permissions = {"GET": ("curation.view_reviewtask",)}
    serializer_class = ReviewTaskSerializer
    filterset_fields = ["status"]
    queryset = ReviewTask.objects.select_related(
        "artwork", "prediction", "claimed_by", "resolved_by", "final_style"
    ).order_by("priority", "created_at", "id")

    @extend_schema(summary="List review tasks", examples=[examples.response("One claimed task", examples.REVIEW_TASK)])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["reviews"])
class ReviewTaskDetailView(APIView):
    permission_classes = [RolePermission]
    required_permissions = {"GET": ("curation.view_reviewtask",)}

    @extend_schema(
        summary="A review task",
        responses={200: ReviewTaskSerializer, 304: OpenApiResponse(description="Not modified.")},
        examples=[examples.response("Claimed", examples.REVIEW_TASK)],
    )
    def get(self, request: Request, pk: int) -> Response:
        task = _get_task(pk)
        return conditional_response(request, ReviewTaskSerializer(task).data, last_modified=task.updated_at)


def _get_task(pk: int) -> ReviewTask:
    try:
        return review_task_for_page(pk=pk)
    except ReviewTask.DoesNotExist as error:
        raise ApiError(status_code=404, code="not_found", message="No review task with this id.") from error


_OPEN_AGAIN = {**examples.REVIEW_TASK, "status": "open", "claimed_by": None, "lease_expires_at": None}
_REVIEW_ERRORS = {
    403: OpenApiResponse(description="Not a reviewer, or another reviewer holds the task (`not_claimant`)."),
    404: OpenApiResponse(description="No such task."),
    409: OpenApiResponse(description="The task is not in a state that allows this (`not_claimable`)."),
}


@extend_schema(tags=["reviews"])
class ReviewClaimNextView(APIView):
    """Claim the most urgent task you have not skipped (your own unexpired claim comes back first)."""

    permission_classes = [RolePermission]
    required_permissions = {"POST": ("curation.work_reviewtask",)}

    @extend_schema(
        summary="Claim the next review task",
        request=None,
        responses={
            200: ReviewTaskSerializer,
            204: OpenApiResponse(description="Nothing is waiting for you."),
        },
        examples=[examples.response("The least confident task, now yours", examples.REVIEW_TASK)],
    )
    def post(self, request: Request) -> Response:
        task = review_claim_next(reviewer=request.user)
        if task is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ReviewTaskSerializer(review_task_for_page(pk=task.pk)).data)


@extend_schema(tags=["reviews"])
class ReviewResolveView(APIView):
    """Decide a task you hold (an open task is claimed on the way): accept, correct, or flag it."""

    permission_classes = [RolePermission]
    required_permissions = {"POST": ("curation.work_reviewtask",)}
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        summary="Resolve a review task",
        request=ReviewResolveSerializer,
        responses={
            200: ReviewTaskSerializer,
            400: OpenApiResponse(description="Invalid decision/style."),
            **_REVIEW_ERRORS,
        },
        examples=[
            OpenApiExample("Accept the model's style", request_only=True, value={"decision": "accepted"}),
            OpenApiExample("Correct it", request_only=True, value={"decision": "corrected", "style": "Baroque"}),
            OpenApiExample("Not a painting", request_only=True, value={"decision": "not_in_taxonomy"}),
            examples.response("Corrected", examples.REVIEW_TASK_RESOLVED),
        ],
    )
    def post(self, request: Request, pk: int) -> Response:
        task = _get_task(pk)
        serializer = ReviewResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review_resolve(
            task=task,
            reviewer=request.user,
            decision=serializer.validated_data["decision"],
            style=serializer.validated_data["style"],
        )
        return Response(ReviewTaskSerializer(review_task_for_page(pk=pk)).data)


@extend_schema(tags=["reviews"])
class ReviewSkipView(APIView):
    """Put a task you hold back in the queue; you will not be offered it again."""

    permission_classes = [RolePermission]
    required_permissions = {"POST": ("curation.work_reviewtask",)}

    @extend_schema(
        summary="Skip a review task",
        request=None,
        responses={200: ReviewTaskSerializer, **_REVIEW_ERRORS},
        examples=[examples.response("Back in the queue", _OPEN_AGAIN)],
    )
    def post(self, request: Request, pk: int) -> Response:
        review_skip(task=_get_task(pk), reviewer=request.user)
        return Response(ReviewTaskSerializer(review_task_for_page(pk=pk)).data)


@extend_schema(tags=["reviews"])
class ReviewReleaseView(APIView):
    """Give a task you hold back to the queue (you may be offered it again)."""

    permission_classes = [RolePermission]
    required_permissions = {"POST": ("curation.work_reviewtask",)}

    @extend_schema(
        summary="Release a review task",
        request=None,
        responses={200: ReviewTaskSerializer, **_REVIEW_ERRORS},
        examples=[examples.response("Back in the queue", _OPEN_AGAIN)],
    )
    def post(self, request: Request, pk: int) -> Response:
        review_release(task=_get_task(pk), reviewer=request.user)
        return Response(ReviewTaskSerializer(review_task_for_page(pk=pk)).data)


@extend_schema(tags=["reviews"])
class ReviewUndoView(APIView):
    """Revert your most recent decision: the task is yours again and the artwork as it was before."""

    permission_classes = [RolePermission]
    required_permissions = {"POST": ("curation.work_reviewtask",)}

    @extend_schema(
        summary="Undo your last decision",
        request=None,
        responses={
            200: ReviewTaskSerializer,
            404: OpenApiResponse(description="You have no decision to undo (`nothing_to_undo`)."),
            409: OpenApiResponse(description="The artwork changed since (`undo_conflict`)."),
        },
        examples=[examples.response("Yours again, undecided", examples.REVIEW_TASK)],
    )
    def post(self, request: Request) -> Response:
        task = review_undo_last(reviewer=request.user)
        if task is None:
            raise ApiError(status_code=404, code="nothing_to_undo", message="You have no decision to undo.")
        return Response(ReviewTaskSerializer(review_task_for_page(pk=task.pk)).data)
