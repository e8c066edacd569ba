from django.contrib import admin

from classifier.models import ModelVersion, ModelVersionEvent, Prediction, TrainingRun


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "architecture", "status", "review_threshold", "temperature", "created_at", "activated_at")
    list_filter = ("status", "architecture")
    readonly_fields = ("checkpoint_sha256", "created_at", "activated_at")


@admin.register(ModelVersionEvent)
class ModelVersionEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "model_version", "action", "actor", "note")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ("id", "artwork", "model_version", "predicted_style", "confidence", "latency_ms", "created_at")
    list_filter = ("model_version", "predicted_style")
    raw_id_fields = ("artwork",)
    list_select_related = ("model_version", "predicted_style")


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "progress", "started_by", "created_at", "finished_at")
    list_filter = ("status",)
