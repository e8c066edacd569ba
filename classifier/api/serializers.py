"""Shapes of the classifier's API resources: model versions, training runs, predictions."""

from __future__ import annotations

from pathlib import Path

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from classifier.models import ModelVersion, Prediction, TrainingRun
from mltrain.architectures import ARCHITECTURES
from mltrain.config import PRESETS
from mltrain.db import normalize_options


class Top3EntrySerializer(serializers.Serializer):
    style = serializers.CharField(help_text="Style code, e.g. `Impressionism`.")
    prob = serializers.FloatField(help_text="Calibrated probability.")


class ModelVersionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["id", "name"]


class PredictionSerializer(serializers.ModelSerializer):
    model_version = ModelVersionRefSerializer()
    predicted_style = serializers.SlugRelatedField(slug_field="code", read_only=True)
    top3 = serializers.SerializerMethodField()

    class Meta:
        model = Prediction
        fields = [
            "id",
            "model_version",
            "predicted_style",
            "confidence",
            "top3",
            "entropy",
            "latency_ms",
            "batch_size",
            "created_at",
        ]

    @extend_schema_field(Top3EntrySerializer(many=True))
    def get_top3(self, prediction: Prediction) -> list[dict]:
        return [{"style": entry["style"], "prob": float(entry["prob"])} for entry in prediction.top3]


class ModelVersionListSerializer(serializers.ModelSerializer):
    training_run = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    macro_f1 = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "name",
            "architecture",
            "timm_name",
            "status",
            "temperature",
            "review_threshold",
            "macro_f1",
            "training_run",
            "created_at",
            "activated_at",
        ]

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_macro_f1(self, version: ModelVersion) -> float | None:
        value = (version.metrics or {}).get("macro_f1")
        return float(value) if isinstance(value, int | float) else None


class ModelVersionDetailSerializer(ModelVersionListSerializer):
    class Meta(ModelVersionListSerializer.Meta):
        fields = [
            *ModelVersionListSerializer.Meta.fields,
            "classes",
            "preprocessing",
            "metrics",
            "training_config",
            "dataset_fingerprint",
            "checkpoint_sha256",
            "refused_reason",
        ]


class ModelVersionActivateSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class TrainingRunListSerializer(serializers.ModelSerializer):
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "status",
            "progress",
            "current_step",
            "started_by",
            "created_at",
            "started_at",
            "finished_at",
        ]


class TrainingRunDetailSerializer(TrainingRunListSerializer):
    model_versions = ModelVersionRefSerializer(many=True, read_only=True)

    class Meta(TrainingRunListSerializer.Meta):
        fields = [*TrainingRunListSerializer.Meta.fields, "config", "log_tail", "error", "model_versions"]


class TrainingRunStartSerializer(serializers.Serializer):
    """The options of ``manage.py train_models``; stored as the run's ``config`` and read by the worker."""

    data = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        max_length=500,
        help_text="A folder on the server with one sub-folder per style (e.g. the WikiArt tree).",
    )
    from_db = serializers.BooleanField(default=False, help_text="Train on the verified labels in the database.")
    models = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(ARCHITECTURES)),
        required=False,
        min_length=1,
        max_length=len(ARCHITECTURES),
        help_text="Architectures to train, each its own run folder and model version.",
    )
    preset = serializers.ChoiceField(choices=["", *sorted(PRESETS)], required=False, default="")
    epochs = serializers.IntegerField(required=False, min_value=1, max_value=500)
    batch_size = serializers.IntegerField(required=False, min_value=1, max_value=1024)
    device = serializers.ChoiceField(choices=["auto", "cpu", "cuda"], required=False, default="auto")
    freeze_backbone = serializers.BooleanField(required=False, default=False)
    split = serializers.ChoiceField(choices=["stratified", "artgan"], required=False, default="stratified")
    pretrained = serializers.BooleanField(default=True, help_text="Start from the architecture's pretrained weights.")
    patience = serializers.IntegerField(required=False, min_value=1, max_value=100, help_text="Early stopping.")
    lr = serializers.FloatField(required=False, min_value=1e-7, max_value=1.0)
    input_size = serializers.IntegerField(required=False, min_value=32, max_value=1024)
    review_precision = serializers.FloatField(
        required=False, min_value=0.5, max_value=1.0, help_text="Precision the review threshold targets (0.9)."
    )
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)
    activate_best = serializers.BooleanField(
        default=False, help_text="Activate the best new version if it beats the active one on the same test split."
    )

    def validate_data(self, value: str) -> str:
        if not value:
            return value
        try:
            is_folder = Path(value).is_dir()
        except (OSError, ValueError):  # a name too long for the filesystem, a NUL byte
            is_folder = False
        if not is_folder:
            raise serializers.ValidationError("No such folder on the server.")
        return value

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("data") and not attrs.get("from_db"):
            raise serializers.ValidationError("Give a data folder, or from_db=true, or both.")
        try:
            normalize_options(attrs)  # the worker's own check: a bad combination fails now, not in the queue
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error
        return attrs
