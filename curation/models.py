"""The collection: styles, artworks, and the human review queue with its audit trail."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Style(models.Model):
    """One of the 27 ArtGAN styles. Rows are created by a data migration in ArtGAN class-id order."""

    class_index = models.PositiveSmallIntegerField(unique=True, help_text="ArtGAN class id (0–26).")
    code = models.CharField(max_length=64, unique=True, help_text="ArtGAN folder name, e.g. Post_Impressionism.")
    name = models.CharField(max_length=100)
    review_threshold = models.FloatField(
        null=True,
        blank=True,
        help_text="Per-style override of the review threshold (empty: the deployment's or the model's).",
    )

    class Meta:
        ordering = ["class_index"]
        constraints = [
            models.CheckConstraint(
                condition=Q(review_threshold__isnull=True) | Q(review_threshold__gte=0, review_threshold__lte=1),
                name="style_review_threshold_is_probability",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Artwork(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CLASSIFIED = "classified", "Classified"
        NEEDS_REVIEW = "needs_review", "Needs review"
        REVIEWED = "reviewed", "Reviewed"
        FAILED = "failed", "Failed"

    class LabelSource(models.TextChoices):
        NONE = "none", "None"
        DATASET = "dataset", "Dataset"
        REVIEWER = "reviewer", "Reviewer"

    class Format(models.TextChoices):
        JPEG = "JPEG", "JPEG"
        PNG = "PNG", "PNG"
        WEBP = "WEBP", "WebP"

    # Original bytes as uploaded, under a random name; served only as an attachment.
    original = models.FileField(upload_to="originals/", max_length=255)
    # Re-encoded derivatives: the only images pages ever show.
    display_image = models.FileField(upload_to="display/", max_length=255)
    thumbnail = models.FileField(upload_to="thumbnails/", max_length=255)
    sha256 = models.CharField(max_length=64, unique=True)
    file_size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=8, choices=Format.choices)
    original_filename = models.CharField(max_length=255, blank=True)

    title = models.CharField(max_length=255, blank=True)
    artist = models.CharField(max_length=255, blank=True)
    year = models.SmallIntegerField(null=True, blank=True)
    source = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    failure_reason = models.TextField(blank=True)

    # The latest prediction, denormalised so that the gallery filters and sorts on indexed columns.
    latest_prediction = models.ForeignKey(
        "classifier.Prediction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    predicted_style = models.ForeignKey(
        Style, null=True, blank=True, on_delete=models.PROTECT, related_name="predicted_artworks"
    )
    confidence = models.FloatField(null=True, blank=True, db_index=True)

    verified_style = models.ForeignKey(
        Style, null=True, blank=True, on_delete=models.PROTECT, related_name="verified_artworks"
    )
    label_source = models.CharField(max_length=16, choices=LabelSource.choices, default=LabelSource.NONE)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("export_artwork", "Can export artwork labels")]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="artwork_status_created"),
            models.Index(fields=["predicted_style", "-created_at"], name="artwork_pred_style_created"),
            models.Index(fields=["verified_style", "-created_at"], name="artwork_verif_style_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(width__gt=0, height__gt=0), name="artwork_positive_size"),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__gte=0, confidence__lte=1),
                name="artwork_confidence_is_probability",
            ),
            # A verified style always says where it came from, and "none" means there is none.
            models.CheckConstraint(
                condition=(Q(verified_style__isnull=True) & Q(label_source="none"))
                | (Q(verified_style__isnull=False) & ~Q(label_source="none")),
                name="artwork_label_source_matches_verified_style",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(failure_reason=""),
                name="artwork_failed_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"Artwork #{self.pk}"


class ReviewTask(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLAIMED = "claimed", "Claimed"
        RESOLVED = "resolved", "Resolved"
        SKIPPED = "skipped", "Skipped"

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted the model's style"
        CORRECTED = "corrected", "Corrected to another style"
        NOT_IN_TAXONOMY = "not_in_taxonomy", "Not a painting / none of the 27"

    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="review_tasks")
    prediction = models.ForeignKey("classifier.Prediction", on_delete=models.PROTECT, related_name="review_tasks")
    # Lower is more urgent: the calibrated confidence of the prediction (least confident first).
    priority = models.FloatField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="claimed_reviews"
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=20, choices=Decision.choices, blank=True)
    final_style = models.ForeignKey(Style, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="resolved_reviews"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "created_at", "id"]
        permissions = [("work_reviewtask", "Can claim and decide review tasks")]
        indexes = [models.Index(fields=["status", "priority", "created_at"], name="reviewtask_queue")]
        constraints = [
            models.UniqueConstraint(
                fields=["artwork"],
                condition=Q(status__in=["open", "claimed"]),
                name="reviewtask_one_open_per_artwork",
            ),
            models.CheckConstraint(
                condition=~Q(status="claimed") | Q(claimed_by__isnull=False, lease_expires_at__isnull=False),
                name="reviewtask_claim_has_owner_and_lease",
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved") | (~Q(decision="") & Q(resolved_at__isnull=False)),
                name="reviewtask_resolved_has_decision",
            ),
            models.CheckConstraint(
                condition=~Q(decision__in=["accepted", "corrected"]) | Q(final_style__isnull=False),
                name="reviewtask_style_decision_has_style",
            ),
        ]

    def __str__(self) -> str:
        return f"Review #{self.pk} of artwork #{self.artwork_id} ({self.status})"


class ReviewEvent(models.Model):
    """Append-only audit trail of the review workflow."""

    class Action(models.TextChoices):
        OPENED = "opened", "Opened"
        UPDATED = "updated", "Updated by a newer prediction"
        CLAIMED = "claimed", "Claimed"
        RELEASED = "released", "Released"
        ACCEPTED = "accepted", "Accepted"
        CORRECTED = "corrected", "Corrected"
        NOT_IN_TAXONOMY = "not_in_taxonomy", "Flagged not in taxonomy"
        SKIPPED = "skipped", "Skipped"
        UNDONE = "undone", "Undone"

    task = models.ForeignKey(ReviewTask, on_delete=models.PROTECT, related_name="events")
    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="review_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="review_events"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    from_style = models.ForeignKey(Style, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_style = models.ForeignKey(Style, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=255, blank=True)
    # For decisions: the artwork's verified_style id, label_source and status just before the decision, so that
    # an undo restores exactly what was there (a dataset label, an earlier reviewer's label, or nothing).
    artwork_state_before = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["actor", "action", "-created_at"], name="reviewevent_actor_action")]

    def __str__(self) -> str:
        return f"{self.action} on task #{self.task_id}"
