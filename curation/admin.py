"""Django admin for the collection: artworks with previews, review tasks with filters, facet counts and bulk
actions (through the review services, so every change writes its audit row), and the read-only audit trail."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from curation.models import Artwork, ReviewEvent, ReviewTask, Style
from curation.services.review import ReviewError, review_accept_predicted, review_release_claims

CONFIDENCE_RANGES = (
    ("0.0-0.2", 0.0, 0.2),
    ("0.2-0.4", 0.2, 0.4),
    ("0.4-0.6", 0.4, 0.6),
    ("0.6-0.8", 0.6, 0.8),
    ("0.8-1.0", 0.8, 1.0),
)


class ConfidenceRangeFilter(admin.SimpleListFilter):
    """Confidence in fifths; the upper bound is exclusive except for the last range, which includes 1.0."""

    title = "confidence"
    parameter_name = "confidence_range"
    field = "confidence"

    def lookups(self, request, model_admin):
        return [(key, f"{low:.1f} – {high:.1f}") for key, low, high in CONFIDENCE_RANGES]

    def queryset(self, request, queryset):
        for key, low, high in CONFIDENCE_RANGES:
            if self.value() == key:
                upper = f"{self.field}__lte" if high == 1.0 else f"{self.field}__lt"
                return queryset.filter(**{f"{self.field}__gte": low, upper: high})
        return queryset


class TaskConfidenceRangeFilter(ConfidenceRangeFilter):
    # A task's priority is the confidence of its prediction.
    field = "priority"


@admin.register(Style)
class StyleAdmin(admin.ModelAdmin):
    list_display = ("class_index", "code", "name", "review_threshold")
    list_editable = ("review_threshold",)
    search_fields = ("code", "name")


@admin.register(Artwork)
class ArtworkAdmin(admin.ModelAdmin):
    list_display = (
        "preview",
        "id",
        "title",
        "artist",
        "status",
        "predicted_style",
        "confidence",
        "verified_style",
        "label_source",
        "created_at",
    )
    list_display_links = ("preview", "id", "title")
    list_filter = ("status", "label_source", "format", ConfidenceRangeFilter, "predicted_style", "verified_style")
    search_fields = ("title", "artist", "sha256")
    list_select_related = ("predicted_style", "verified_style")
    list_per_page = 50
    show_facets = admin.ShowFacets.ALWAYS
    raw_id_fields = ("uploaded_by", "latest_prediction")
    readonly_fields = (
        "large_preview",
        "sha256",
        "file_size",
        "width",
        "height",
        "format",
        "original",
        "display_image",
        "thumbnail",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("large_preview", "title", "artist", "year", "source", "uploaded_by")}),
        (
            "Classification",
            {
                "fields": (
                    "status",
                    "failure_reason",
                    "latest_prediction",
                    "predicted_style",
                    "confidence",
                    "verified_style",
                    "label_source",
                )
            },
        ),
        (
            "File",
            {
                "classes": ("collapse",),
                "fields": (
                    "original_filename",
                    "sha256",
                    "file_size",
                    "width",
                    "height",
                    "format",
                    "original",
                    "display_image",
                    "thumbnail",
                    "created_at",
                    "updated_at",
                ),
            },
        ),
    )

    @admin.display(description="Image")
    def preview(self, artwork: Artwork) -> str:
        return format_html(
            '<img src="{}" alt="" style="height:64px;max-width:96px;object-fit:contain;border-radius:3px">',
            reverse("artwork-thumbnail", args=[artwork.pk]),
        )

    @admin.display(description="Image")
    def large_preview(self, artwork: Artwork) -> str:
        if not artwork.pk:
            return "—"
        return format_html(
            '<a href="{}"><img src="{}" alt="" style="max-height:480px;max-width:100%"></a>',
            reverse("artwork-page", args=[artwork.pk]),
            reverse("artwork-display", args=[artwork.pk]),
        )


@admin.register(ReviewTask)
class ReviewTaskAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "preview",
        "artwork",
        "status",
        "predicted_style",
        "confidence",
        "claimed_by",
        "lease_expires_at",
        "decision",
        "final_style",
        "resolved_by",
        "resolved_at",
    )
    list_filter = (
        "status",
        ("prediction__predicted_style", admin.RelatedOnlyFieldListFilter),
        TaskConfidenceRangeFilter,
        "decision",
    )
    list_select_related = ("artwork", "prediction__predicted_style", "claimed_by", "final_style", "resolved_by")
    show_facets = admin.ShowFacets.ALWAYS
    search_fields = ("artwork__title", "artwork__artist", "=artwork__id")
    ordering = ("status", "priority", "created_at", "id")
    actions = ("accept_predicted_style", "release_claims")
    # Workflow fields change only through the review services (which write the audit trail), never by hand.
    readonly_fields = (
        "artwork",
        "prediction",
        "priority",
        "status",
        "claimed_by",
        "lease_expires_at",
        "decision",
        "final_style",
        "resolved_by",
        "resolved_at",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_work_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("curation.work_reviewtask")

    @admin.display(description="Predicted style", ordering="prediction__predicted_style__class_index")
    def predicted_style(self, task: ReviewTask) -> Style:
        return task.prediction.predicted_style

    @admin.display(description="Confidence", ordering="priority")
    def confidence(self, task: ReviewTask) -> str:
        return f"{task.priority:.3f}"

    @admin.display(description="Image")
    def preview(self, task: ReviewTask) -> str:
        return format_html(
            '<img src="{}" alt="" style="height:56px;max-width:84px;object-fit:contain">',
            reverse("artwork-thumbnail", args=[task.artwork_id]),
        )

    @admin.action(description="Accept the predicted style", permissions=["work"])
    def accept_predicted_style(self, request: HttpRequest, queryset: QuerySet[ReviewTask]) -> None:
        selected = queryset.count()
        try:
            accepted = review_accept_predicted(tasks=queryset.order_by("id"), actor=request.user)
        except ReviewError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        level = messages.SUCCESS if accepted == selected else messages.WARNING
        self.message_user(
            request,
            f"Accepted the predicted style for {accepted} of {selected} tasks "
            "(resolved tasks and tasks another reviewer holds are left alone).",
            level,
        )

    @admin.action(description="Release claims (back to the queue)", permissions=["work"])
    def release_claims(self, request: HttpRequest, queryset: QuerySet[ReviewTask]) -> None:
        released = review_release_claims(tasks=queryset.order_by("id"), actor=request.user)
        self.message_user(request, f"Released {released} claimed task(s).", messages.SUCCESS)


@admin.register(ReviewEvent)
class ReviewEventAdmin(admin.ModelAdmin):
    """The audit trail: append-only, so read-only here."""

    list_display = ("created_at", "task", "artwork", "actor", "action", "from_style", "to_style", "note")
    list_filter = ("action", ("actor", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("task", "artwork", "actor", "from_style", "to_style")
    search_fields = ("=task__id", "=artwork__id", "note")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
