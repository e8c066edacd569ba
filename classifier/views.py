"""``POST /predict``: the prototype's endpoint, kept compatible, on Atelier's ingest rules and engine."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from classifier.engine.runtime import active_engine
from classifier.services.predict import artwork_ingest_with_prediction
from config.api.errors import ApiError
from config.api.throttling import AnonThrottle, UploadThrottle, UserThrottle
from curation.services.ingest import image_validate

logger = logging.getLogger(__name__)

# Synchronous predictions run here so that a request can give up after the timeout instead of hanging a web
# worker; the forward pass itself is serialised by the engine.
_predict_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="atelier-predict")


class PredictInputSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, help_text="A JPEG, PNG or WebP image.")
    save = serializers.BooleanField(default=False, help_text="Also ingest the image as an artwork.")


class PredictView(APIView):
    """Top-3 styles for an uploaded image, computed synchronously by the active model version.

    Anonymous clients may call it (as with the prototype); ``save=true`` also stores the image as an artwork and
    needs a signed-in user allowed to add artworks.
    """

    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser, FormParser]
    # Anonymous 100/hour as the prototype promised, signed-in users their own rate, plus the uploads budget.
    throttle_classes = [AnonThrottle, UserThrottle, UploadThrottle]

    @extend_schema(
        summary="Predict the style of an image (the prototype's endpoint)",
        examples=[
            OpenApiExample(
                "Top 3",
                response_only=True,
                value={
                    "predictions": [
                        {"class": "Impressionism", "prob": 0.87},
                        {"class": "Post_Impressionism", "prob": 0.06},
                        {"class": "Realism", "prob": 0.03},
                    ]
                },
            )
        ],
        request={"multipart/form-data": PredictInputSerializer},
        responses={
            200: inline_serializer(
                "PredictOutput",
                {
                    "predictions": inline_serializer(
                        "PredictedClass",
                        {"class": serializers.CharField(), "prob": serializers.FloatField()},
                        many=True,
                    ),
                    "artwork_id": serializers.IntegerField(required=False),
                },
            )
        },
    )
    def post(self, request: Request) -> Response:
        if "file" not in request.FILES:
            raise ApiError(
                status_code=status.HTTP_400_BAD_REQUEST,
                code="missing_file",
                message="Send the image as the multipart form field 'file'.",
            )
        incoming = PredictInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        save = incoming.validated_data["save"]
        if save:
            if not request.user.is_authenticated:
                raise exceptions.NotAuthenticated("Sign in to save the image as an artwork.")
            if not request.user.has_perm("curation.add_artwork"):
                raise exceptions.PermissionDenied("You may not add artworks.")

        loaded = active_engine()
        if loaded is None:
            raise ApiError(
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                code="no_active_model",
                message="No model version is active; an ML admin must activate one.",
            )
        validated = image_validate(file=incoming.validated_data["file"], decode_side=loaded.engine.decode_min_side)
        future = _predict_pool.submit(loaded.engine.predict_images, [validated.image])
        try:
            (outcome,) = future.result(timeout=settings.ATELIER["PREDICT_TIMEOUT_SECONDS"])
        except FutureTimeout:
            logger.warning("/predict timed out after %ss", settings.ATELIER["PREDICT_TIMEOUT_SECONDS"])
            raise ApiError(
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                code="timeout",
                message="The model did not answer in time; try again shortly.",
            ) from None

        body: dict = {"predictions": [{"class": code, "prob": prob} for code, prob in outcome.top3]}
        if save:
            artwork = artwork_ingest_with_prediction(
                data=validated.data,
                filename=getattr(incoming.validated_data["file"], "name", ""),
                uploaded_by=request.user,
                model_version=loaded.version,
                outcome=outcome,
            )
            body["artwork_id"] = artwork.pk
        return Response(body)
