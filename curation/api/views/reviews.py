"""The review queue: list, detail, claim, resolve, skip, release, undo. Rules live in the review services."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.conditional import conditional_response
from config.api.errors import ApiError
from config.api.permissions import RolePermission
from curation.api import examples
from curation.api.serializers import (
    ReviewResolveSerializer,
    ReviewTaskSerializer,
)
from curation.models import ReviewTask
from curation.selectors import review_task_for_page
from curation.services.review import review_claim_next, review_release, review_resolve, review_skip, review_undo_last


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
