from django.contrib import admin

from curation.models import Artwork, ReviewEvent, ReviewTask, Style


@admin.register(Style)
class StyleAdmin(admin.ModelAdmin):
    list_display = ("class_index", "code", "name", "review_threshold")
    list_editable = ("review_threshold",)
    search_fields = ("code", "name")


@admin.register(Artwork)
class ArtworkAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "artist", "status", "predicted_style", "confidence", "verified_style", "created_at")
    list_filter = ("status", "label_source", "format")
    search_fields = ("title", "artist", "sha256")
    list_select_related = ("predicted_style", "verified_style")
    raw_id_fields = ("uploaded_by", "latest_prediction")
    readonly_fields = ("sha256", "file_size", "width", "height", "format", "original", "display_image", "thumbnail")


@admin.register(ReviewTask)
class ReviewTaskAdmin(admin.ModelAdmin):
    list_display = ("id", "artwork", "status", "priority", "claimed_by", "decision", "final_style", "resolved_at")
    list_filter = ("status", "decision")
    raw_id_fields = ("artwork", "prediction", "claimed_by", "resolved_by")


@admin.register(ReviewEvent)
class ReviewEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "task", "actor", "action", "from_style", "to_style")
    list_filter = ("action",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
