"""The model registry (ModelVersion, TrainingRun) and the predictions the models make."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class TrainingRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="training_runs"
    )
    config = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0, help_text="Fraction done, 0–1.")
    current_step = models.CharField(max_length=255, blank=True)
    log_tail = models.TextField(blank=True)
    output_dir = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0, progress__lte=1), name="trainingrun_progress_range"),
        ]

    def __str__(self) -> str:
        return f"Training run #{self.pk} ({self.status})"


class ModelVersion(models.Model):
    class Status(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"
        REFUSED = "refused", "Refused (checkpoint failed verification)"

    name = models.CharField(max_length=100, unique=True)
    architecture = models.CharField(max_length=100, help_text="Registry name, e.g. efficientnet_lite0.")
    timm_name = models.CharField(max_length=100, blank=True, help_text="timm model name, where there is one.")
    checkpoint_path = models.CharField(max_length=500)
    checkpoint_sha256 = models.CharField(max_length=64)
    classes = models.JSONField(help_text="Style codes in output order.")
    # input_size [C,H,W], mean, std, interpolation, crop_pct — the evaluation transform the model was trained with.
    preprocessing = models.JSONField()
    temperature = models.FloatField(default=1.0)
    review_threshold = models.FloatField(default=0.5)
    metrics = models.JSONField(default=dict, blank=True)
    training_config = models.JSONField(default=dict, blank=True)
    dataset_fingerprint = models.CharField(max_length=64, blank=True)
    training_run = models.ForeignKey(
        TrainingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="model_versions"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CANDIDATE)
    refused_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("activate_modelversion", "Can activate or roll back a model version")]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"), name="modelversion_one_active"),
            models.CheckConstraint(condition=Q(temperature__gt=0), name="modelversion_temperature_positive"),
            models.CheckConstraint(
                condition=Q(review_threshold__gte=0, review_threshold__lte=1),
                name="modelversion_threshold_is_probability",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ModelVersionEvent(models.Model):
    """Audit trail of activations, rollbacks and refusals."""

    class Action(models.TextChoices):
        REGISTERED = "registered", "Registered"
        ACTIVATED = "activated", "Activated"
        ROLLED_BACK = "rolled_back", "Rolled back"
        REFUSED = "refused", "Refused"

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=20, choices=Action.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.model_version_id}"


class Prediction(models.Model):
    artwork = models.ForeignKey("curation.Artwork", on_delete=models.CASCADE, related_name="predictions")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="predictions")
    predicted_style = models.ForeignKey("curation.Style", on_delete=models.PROTECT, related_name="+")
    # [{"style": code, "prob": p}, … 3 items], calibrated probabilities, most likely first.
    top3 = models.JSONField()
    confidence = models.FloatField(help_text="Temperature-scaled softmax top-1 probability.")
    entropy = models.FloatField()
    # The full calibrated probability vector in the version's class order, kept for calibration studies.
    probabilities = models.JSONField(default=list, blank=True)
    latency_ms = models.FloatField(help_text="Time from decode start to probabilities, per image.")
    batch_size = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["artwork", "model_version"], name="prediction_one_per_artwork_version"),
            models.CheckConstraint(
                condition=Q(confidence__gte=0, confidence__lte=1), name="prediction_confidence_range"
            ),
            models.CheckConstraint(condition=Q(entropy__gte=0), name="prediction_entropy_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"Prediction #{self.pk} for artwork #{self.artwork_id}"
