"""Shapes of the curation API resources: artworks, upload reports, review tasks, styles, overview figures."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from classifier.api.serializers import ModelVersionRefSerializer, Top3EntrySerializer
from curation.models import Artwork, ReviewTask, Style

MAX_YEAR = 2100
MIN_YEAR = -3000


class StyleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Style
        fields = ["code", "name", "class_index", "review_threshold"]


class ArtworkLinksSerializer(serializers.Serializer):
    self = serializers.CharField()
    image = serializers.CharField(help_text="The original bytes, as a download.")
    thumbnail = serializers.CharField(help_text="A JPEG of at most 320 px per side.")
    predictions = serializers.CharField()


def _links(artwork: Artwork) -> dict[str, str]:
    return {
        "self": reverse("api:artwork-detail", args=[artwork.pk]),
        "image": reverse("api:artwork-image", args=[artwork.pk]),
        "thumbnail": reverse("api:artwork-thumbnail", args=[artwork.pk]),
        "predictions": reverse("api:artwork-predictions", args=[artwork.pk]),
    }


class ArtworkListSerializer(serializers.ModelSerializer):
    predicted_style = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    verified_style = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = Artwork
        fields = [
            "id",
            "title",
            "artist",
            "year",
            "source",
            "status",
            "predicted_style",
            "confidence",
            "verified_style",
            "label_source",
            "format",
            "width",
            "height",
            "created_at",
            "updated_at",
            "links",
        ]

    @extend_schema_field(ArtworkLinksSerializer)
    def get_links(self, artwork: Artwork) -> dict[str, str]:
        return _links(artwork)


class LatestPredictionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model_version = ModelVersionRefSerializer()
    predicted_style = serializers.CharField()
    confidence = serializers.FloatField()
    top3 = Top3EntrySerializer(many=True)
    created_at = serializers.DateTimeField()


class ReviewStateSerializer(serializers.Serializer):
    task_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ReviewTask.Status.choices)
    decision = serializers.CharField(allow_blank=True, help_text="Empty until decided.")
    final_style = serializers.CharField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)


class ArtworkDetailSerializer(ArtworkListSerializer):
    """One artwork with its latest prediction's top 3 and the state of its review (``null`` when never queued)."""

    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    latest_prediction = serializers.SerializerMethodField()
    review = serializers.SerializerMethodField()

    class Meta(ArtworkListSerializer.Meta):
        fields = [
            *ArtworkListSerializer.Meta.fields,
            "sha256",
            "file_size",
            "original_filename",
            "uploaded_by",
            "failure_reason",
            "latest_prediction",
            "review",
        ]

    @extend_schema_field(LatestPredictionSerializer(allow_null=True))
    def get_latest_prediction(self, artwork: Artwork) -> dict[str, Any] | None:
        prediction = artwork.latest_prediction
        if prediction is None:
            return None
        return {
            "id": prediction.pk,
            "model_version": {"id": prediction.model_version_id, "name": prediction.model_version.name},
            "predicted_style": prediction.top3[0]["style"] if prediction.top3 else None,
            "confidence": prediction.confidence,
            "top3": [{"style": entry["style"], "prob": float(entry["prob"])} for entry in prediction.top3],
            "created_at": serializers.DateTimeField().to_representation(prediction.created_at),
        }

    @extend_schema_field(ReviewStateSerializer(allow_null=True))
    def get_review(self, artwork: Artwork) -> dict[str, Any] | None:
        task = self.context.get("review_task")
        if task is None:
            return None
        return {
            "task_id": task.pk,
            "status": task.status,
            "decision": task.decision,
            "final_style": task.final_style.code if task.final_style_id else None,
            "resolved_at": serializers.DateTimeField().to_representation(task.resolved_at)
            if task.resolved_at
            else None,
        }


class ArtworkUploadSerializer(serializers.Serializer):
    """Multipart input: one or several ``file`` parts, with optional metadata applied to every file."""

    file = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False),
        allow_empty=False,
        help_text="One or several images (JPEG, PNG or WebP; at most 10 MB and 150–8192 px per side each).",
    )
    title = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    artist = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    year = serializers.IntegerField(required=False, allow_null=True, min_value=MIN_YEAR, max_value=MAX_YEAR)
    source = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class UploadErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class UploadResultSerializer(serializers.Serializer):
    filename = serializers.CharField(allow_blank=True)
    outcome = serializers.ChoiceField(
        choices=["accepted", "duplicate", "rejected"],
        help_text="accepted: a new artwork; duplicate: the same bytes were already stored; rejected: see error.",
    )
    artwork = ArtworkListSerializer(allow_null=True)
    error = UploadErrorSerializer(allow_null=True)


class UploadReportSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = UploadResultSerializer(many=True)


class ArtworkRefSerializer(serializers.ModelSerializer):
    links = serializers.SerializerMethodField()

    class Meta:
        model = Artwork
        fields = ["id", "title", "artist", "year", "status", "width", "height", "links"]

    @extend_schema_field(ArtworkLinksSerializer)
    def get_links(self, artwork: Artwork) -> dict[str, str]:
        return _links(artwork)


class ReviewTaskSerializer(serializers.ModelSerializer):
    artwork = ArtworkRefSerializer()
    predicted_style = serializers.SerializerMethodField()
    confidence = serializers.SerializerMethodField()
    top3 = serializers.SerializerMethodField()
    claimed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    final_style = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = ReviewTask
        fields = [
            "id",
            "artwork",
            "status",
            "priority",
            "predicted_style",
            "confidence",
            "top3",
            "claimed_by",
            "lease_expires_at",
            "decision",
            "final_style",
            "resolved_by",
            "resolved_at",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.CharField())
    def get_predicted_style(self, task: ReviewTask) -> str:
        return task.prediction.top3[0]["style"]

    @extend_schema_field(serializers.FloatField())
    def get_confidence(self, task: ReviewTask) -> float:
        return task.prediction.confidence

    @extend_schema_field(Top3EntrySerializer(many=True))
    def get_top3(self, task: ReviewTask) -> list[dict]:
        return [{"style": entry["style"], "prob": float(entry["prob"])} for entry in task.prediction.top3]


class ReviewResolveSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ReviewTask.Decision.choices)
    style = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Style.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Style code. Needed for `corrected`; for `accepted` optional (one of the top 3); none for "
        "`not_in_taxonomy`.",
    )


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")


# --- Overview figures (curation.selectors.overview_stats) --------------------------------------------------------


class QueueSummarySerializer(serializers.Serializer):
    depth = serializers.IntegerField()
    claimed = serializers.IntegerField()
    oldest = serializers.DateTimeField(allow_null=True)
    oldest_age_seconds = serializers.FloatField(allow_null=True)


class HourCountSerializer(serializers.Serializer):
    hour = serializers.DateTimeField()
    count = serializers.IntegerField()


class LatencySerializer(serializers.Serializer):
    p50 = serializers.FloatField(allow_null=True)
    p95 = serializers.FloatField(allow_null=True)
    p99 = serializers.FloatField(allow_null=True)


class ConfidenceBinSerializer(serializers.Serializer):
    low = serializers.FloatField()
    high = serializers.FloatField()
    count = serializers.IntegerField()


class StyleCountSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    predicted = serializers.IntegerField()
    verified = serializers.IntegerField()


class ModelHeadlineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    architecture = serializers.CharField()
    activated_at = serializers.DateTimeField(allow_null=True)
    review_threshold = serializers.FloatField()
    temperature = serializers.FloatField()
    accuracy = serializers.FloatField(allow_null=True)
    macro_f1 = serializers.FloatField(allow_null=True)
    macro_f1_ci95 = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    ece = serializers.FloatField(allow_null=True)


class ModelProblemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    refused_reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class StatusCountsSerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    classified = serializers.IntegerField()
    needs_review = serializers.IntegerField()
    reviewed = serializers.IntegerField()
    failed = serializers.IntegerField()


class OverviewStatsSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    total_artworks = serializers.IntegerField()
    status_counts = StatusCountsSerializer()
    queue = QueueSummarySerializer()
    predictions_last_24h = serializers.IntegerField()
    predictions_last_hour = serializers.IntegerField()
    predictions_per_hour = HourCountSerializer(many=True)
    latency_ms = LatencySerializer()
    confidence_histogram = ConfidenceBinSerializer(many=True)
    style_counts = StyleCountSerializer(many=True)
    active_model = ModelHeadlineSerializer(allow_null=True)
    model_problems = ModelProblemSerializer(many=True)
