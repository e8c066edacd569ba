"""API views of the model registry, training runs and predictions. Thin: validate, call a service, shape output."""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from classifier.api import examples
from classifier.api.serializers import (
    ModelVersionActivateSerializer,
    ModelVersionDetailSerializer,
    ModelVersionListSerializer,
    PredictionSerializer,
    TrainingRunDetailSerializer,
    TrainingRunListSerializer,
    TrainingRunStartSerializer,
)
from classifier.models import ModelVersion, Prediction, TrainingRun
from classifier.services.registry import model_version_activate
from classifier.services.training import training_run_start
from config.api.conditional import conditional_response
from config.api.errors import ApiError
from config.api.permissions import RolePermission
from curation.models import Artwork
from curation.selectors import artwork_predictions

_TOP3_EXAMPLE = [
    {"style": "Impressionism", "prob": 0.71},
    {"style": "Post_Impressionism", "prob": 0.18},
    {"style": "Realism", "prob": 0.04},
]


@extend_schema(tags=["predictions"])
class ArtworkPredictionListView(generics.ListAPIView):
    """Every prediction made for one artwork, newest first (one per model version that has seen it)."""

    permission_classes = [RolePermission]
    required_permissions = {"GET": ("curation.view_artwork", "classifier.view_prediction")}
    serializer_class = PredictionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no URL kwargs
            return Prediction.objects.none()
        artwork = get_object_or_404(Artwork.objects.only("pk"), pk=self.kwargs["pk"])
        return artwork_predictions(artwork=artwork)

    @extend_schema(
        summary="List an artwork's predictions",
        examples=[
            OpenApiExample(
                "One prediction",
                response_only=True,
                value={
                    "id": 12,
                    "model_version": {"id": 3, "name": "lite0-20261204"},
                    "predicted_style": "Impressionism",
                    "confidence": 0.71,
                    "top3": _TOP3_EXAMPLE,
                    "entropy": 1.02,
                    "latency_ms": 38.5,
                    "batch_size": 8,
                    "created_at": "2026-12-04T20:15:02Z",
                },
            )
        ],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["models"])
class ModelVersionListView(generics.ListAPIView):
    """Registered model versions, newest first. Filter with ``?status=active|candidate|retired|refused``."""

    permission_classes = [RolePermission]
    required_permissions = {"GET": ("classifier.view_modelversion",)}
    serializer_class = ModelVersionListSerializer
    filterset_fields = ["status", "architecture"]
    queryset = ModelVersion.objects.order_by("-created_at", "-id")

    @extend_schema(
        summary="List model versions",
        examples=[OpenApiExample("The active version", examples.MODEL_VERSION, response_only=True)],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["models"])
class ModelVersionDetailView(APIView):
    permission_classes = [RolePermission]
    required_permissions = {"GET": ("classifier.view_modelversion",)}

    @extend_schema(
        summary="A model version with its evaluation metrics",
        description="Answers with an `ETag`; send it back in `If-None-Match` to get 304 while nothing changed.",
        responses={200: ModelVersionDetailSerializer, 304: OpenApiResponse(description="Not modified.")},
        examples=[OpenApiExample("With its metrics", examples.MODEL_VERSION_DETAIL, response_only=True)],
    )
    def get(self, request: Request, pk: int) -> Response:
        version = get_object_or_404(ModelVersion, pk=pk)
        return conditional_response(request, ModelVersionDetailSerializer(version).data)


@extend_schema(tags=["models"])
class ModelVersionActivateView(APIView):
    """Make this version the one that classifies new uploads (ml_admin). Activating an older one is a rollback."""

    permission_classes = [RolePermission]
    required_permissions = {"POST": ("classifier.activate_modelversion",)}

    @extend_schema(
        summary="Activate (or roll back to) a model version",
        request=ModelVersionActivateSerializer,
        responses={
            200: ModelVersionDetailSerializer,
            404: OpenApiResponse(description="No such version."),
            409: OpenApiResponse(description="The version was refused (its checkpoint failed verification)."),
        },
        examples=[
            OpenApiExample("With a note", request_only=True, value={"note": "better macro-F1 on the sample"}),
            OpenApiExample("Now active", examples.MODEL_VERSION_DETAIL, response_only=True),
        ],
    )
    def post(self, request: Request, pk: int) -> Response:
        version = get_object_or_404(ModelVersion, pk=pk)
        serializer = ModelVersionActivateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if version.status == ModelVersion.Status.REFUSED:
            raise ApiError(
                status_code=status.HTTP_409_CONFLICT,
                code="version_refused",
                message=f"Model version {version.name} was refused: {version.refused_reason}",
            )
        try:
            version = model_version_activate(
                version=version, actor=request.user, note=serializer.validated_data["note"]
            )
        except ValueError as error:  # refused between our read and the service's row lock
            raise ApiError(status_code=status.HTTP_409_CONFLICT, code="version_refused", message=str(error)) from error
        return Response(ModelVersionDetailSerializer(version).data)


@extend_schema(tags=["training"])
class TrainingRunListView(generics.ListCreateAPIView):
    """Training runs, newest first; POST starts one on the Celery ``default`` queue (ml_admin)."""

    permission_classes = [RolePermission]
    required_permissions = {"GET": ("classifier.view_trainingrun",), "POST": ("classifier.add_trainingrun",)}
    filterset_fields = ["status"]
    queryset = TrainingRun.objects.select_related("started_by").order_by("-created_at", "-id")

    def get_serializer_class(self):
        return TrainingRunStartSerializer if self.request.method == "POST" else TrainingRunListSerializer

    @extend_schema(
        summary="List training runs",
        examples=[OpenApiExample("One run in progress", examples.TRAINING_RUN, response_only=True)],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Start a training run",
        description=(
            "Creates the run (status `queued`) and hands it to a worker once the transaction commits; poll "
            "`GET /api/v1/training-runs/{id}/` for progress. The options are those of `manage.py train_models`."
        ),
        request=TrainingRunStartSerializer,
        responses={202: TrainingRunDetailSerializer},
        examples=[
            OpenApiExample(
                "CPU preset on the verified labels",
                request_only=True,
                value={"from_db": True, "preset": "cpu", "models": ["efficientnet_lite0"], "activate_best": False},
            ),
            OpenApiExample("Queued", examples.TRAINING_RUN_QUEUED, response_only=True, status_codes=["202"]),
        ],
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        serializer = TrainingRunStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            run = training_run_start(config=serializer.validated_data, started_by=request.user)
        return Response(TrainingRunDetailSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["training"])
class TrainingRunDetailView(APIView):
    permission_classes = [RolePermission]
    required_permissions = {"GET": ("classifier.view_trainingrun",)}

    @extend_schema(
        summary="A training run with its progress and log tail",
        responses={200: TrainingRunDetailSerializer, 304: OpenApiResponse(description="Not modified.")},
        examples=[OpenApiExample("Epoch 21 of 60", examples.TRAINING_RUN_DETAIL, response_only=True)],
    )
    def get(self, request: Request, pk: int) -> Response:
        run = get_object_or_404(TrainingRun.objects.select_related("started_by"), pk=pk)
        return conditional_response(request, TrainingRunDetailSerializer(run).data)
