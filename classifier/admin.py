"""Django admin for the model registry: versions with an activate action (through the registry service, which
writes the audit row), the read-only audit trail, predictions and training runs."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from classifier.models import ModelVersion, ModelVersionEvent, Prediction, TrainingRun
from classifier.services.registry import model_version_activate


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "architecture",
        "status",
        "macro_f1",
        "review_threshold",
        "temperature",
        "created_at",
        "activated_at",
    )
    list_filter = ("status", "architecture")
    search_fields = ("name", "architecture", "timm_name")
    show_facets = admin.ShowFacets.ALWAYS
    actions = ("activate_version",)
    # Status changes go through activate/refuse (with their audit rows), never through the form.
    readonly_fields = ("status", "refused_reason", "checkpoint_sha256", "created_at", "activated_at")

    def has_activate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("classifier.activate_modelversion")

    @admin.display(description="Macro-F1")
    def macro_f1(self, version: ModelVersion) -> str:
        value = (version.metrics or {}).get("macro_f1")
        return f"{value:.3f}" if isinstance(value, int | float) else "—"

    @admin.action(description="Activate the selected version (roll back if older)", permissions=["activate"])
    def activate_version(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        versions = list(queryset[:2])
        if len(versions) != 1:
            self.message_user(request, "Select exactly one version to activate.", messages.ERROR)
            return
        try:
            version = model_version_activate(version=versions[0], actor=request.user, note="activated in the admin")
        except ValueError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(request, f"{version.name} is now the active model.", messages.SUCCESS)


@admin.register(ModelVersionEvent)
class ModelVersionEventAdmin(admin.ModelAdmin):
    """The registry's audit trail: read-only."""

    list_display = ("created_at", "model_version", "action", "actor", "note")
    list_filter = ("action",)
    list_select_related = ("model_version", "actor")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ("id", "artwork", "model_version", "predicted_style", "confidence", "latency_ms", "created_at")
    list_filter = ("model_version", "predicted_style")
    raw_id_fields = ("artwork",)
    list_select_related = ("model_version", "predicted_style", "artwork")
    exclude = ("probabilities",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "progress", "current_step", "started_by", "created_at", "finished_at")
    list_filter = ("status",)
    readonly_fields = ("progress", "current_step", "log_tail", "error", "output_dir", "started_at", "finished_at")
