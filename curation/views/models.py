"""Model versions (metrics, report pictures, activate / roll back) and training runs with live progress."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classifier.models import ModelVersion, ModelVersionEvent, TrainingRun
from classifier.services.registry import model_version_activate
from curation.selectors import model_headline, model_versions_with_counts, style_by_code
from curation.views.access import role_required

PLOT_TITLES = {
    "confusion_matrix": "Confusion matrix (test split)",
    "reliability": "Reliability diagram (before and after temperature scaling)",
    "per_class_f1": "F1 per style",
    "training_curves": "Training curves",
}


def _plot_files() -> dict[str, str]:
    # Imported on use: mltrain.plots pulls in matplotlib, which the rest of the web process never needs.
    from mltrain.plots import PLOT_FILES

    return PLOT_FILES


def _run_folder(version: ModelVersion) -> Path:
    return Path(version.checkpoint_path).parent


@require_GET
@role_required("classifier.view_modelversion")
def model_list(request: HttpRequest) -> HttpResponse:
    versions = list(model_versions_with_counts())
    for version in versions:
        version.headline = model_headline(version)
    return render(request, "curation/models.html", {"nav": "models", "versions": versions})


@require_GET
@role_required("classifier.view_modelversion")
def model_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(ModelVersion.objects.select_related("training_run"), pk=pk)
    metrics = version.metrics or {}
    styles = style_by_code()
    per_class = [
        {"code": code, "name": styles[code].name if code in styles else code, **values}
        for code, values in (metrics.get("per_class") or {}).items()
        if isinstance(values, dict)
    ]
    folder = _run_folder(version)
    plots = [
        {"kind": kind, "title": PLOT_TITLES.get(kind, kind), "filename": filename}
        for kind, filename in _plot_files().items()
        if (folder / filename).is_file()
    ]
    context = {
        "nav": "models",
        "version": version,
        "headline": model_headline(version),
        "metrics": metrics,
        "per_class": per_class,
        "plots": plots,
        "events": ModelVersionEvent.objects.filter(model_version=version).select_related("actor")[:20],
    }
    return render(request, "curation/model_detail.html", context)


@require_GET
@role_required("classifier.view_modelversion")
def model_plot(request: HttpRequest, pk: int, kind: str) -> FileResponse:
    """A report picture from the version's run folder; only the known file names, never a path from the URL."""
    version = get_object_or_404(ModelVersion.objects.only("checkpoint_path"), pk=pk)
    filename = _plot_files().get(kind)
    if filename is None:
        raise Http404("No such picture.")
    path = _run_folder(version) / filename
    if not path.is_file():
        raise Http404("This version has no such picture.")
    response = FileResponse(open(path, "rb"), content_type="image/png")  # noqa: SIM115 (FileResponse closes it)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_http_methods(["GET", "POST"])
@role_required("classifier.view_modelversion", "classifier.activate_modelversion")
def model_activate(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST with ``confirm=yes`` activates (a rollback when the version is older)."""
    version = get_object_or_404(ModelVersion, pk=pk)
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    context = {"nav": "models", "version": version, "active": active, "error": ""}
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            context["error"] = "Tick the confirmation box to activate this version."
            return render(request, "curation/model_activate.html", context, status=400)
        try:
            model_version_activate(version=version, actor=request.user, note=request.POST.get("note", "")[:500])
        except ValueError as error:
            context["error"] = str(error)
            return render(request, "curation/model_activate.html", context, status=409)
        messages.success(request, f"{version.name} is now the active model.")
        return redirect("model-detail", pk=version.pk)
    return render(request, "curation/model_activate.html", context)


def _training_page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    from mltrain.config import PRESETS

    runs = TrainingRun.objects.select_related("started_by").prefetch_related("model_versions")[:50]
    context = {"nav": "training", "runs": runs, "presets": sorted(PRESETS), "error": error}
    return render(request, "curation/training.html", context, status=status)


@require_GET
@role_required("classifier.view_trainingrun")
def training_list(request: HttpRequest) -> HttpResponse:
    return _training_page(request)


@require_GET
@role_required("classifier.view_trainingrun")
def training_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(TrainingRun.objects.select_related("started_by"), pk=pk)
    return render(
        request,
        "curation/training_detail.html",
        {"nav": "training", "run": run, "versions": run.model_versions.all()},
    )


def _run_state(run: TrainingRun) -> dict:
    return {
        "id": run.pk,
        "status": run.status,
        "status_display": run.get_status_display(),
        "progress": run.progress,
        "percent": round(run.progress * 100, 1),
        "current_step": run.current_step,
        "log_tail": run.log_tail,
        "error": run.error,
        "finished": run.status in (TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED),
        "versions": [{"id": version.pk, "name": version.name} for version in run.model_versions.all()],
    }


@require_GET
@role_required("classifier.view_trainingrun")
def training_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by the training run page every few seconds while the run is queued or running."""
    run = get_object_or_404(TrainingRun, pk=pk)
    return JsonResponse(_run_state(run))


@require_POST
@role_required("classifier.add_trainingrun")
def training_start(request: HttpRequest) -> HttpResponse:
    """Start a run on the verified labels in the database (the common case from the dashboard)."""
    from classifier.services.training import training_run_start
    from mltrain.config import PRESETS

    config: dict = {"from_db": True, "activate_best": request.POST.get("activate_best") == "on"}
    preset = request.POST.get("preset", "")
    if preset:
        if preset not in PRESETS:
            return _training_page(request, error=f"Unknown preset {preset!r}.", status=400)
        config["preset"] = preset
    epochs = request.POST.get("epochs", "").strip()
    if epochs:
        if not epochs.isdigit() or not 1 <= int(epochs) <= 500:
            return _training_page(request, error="Epochs must be a whole number from 1 to 500.", status=400)
        config["epochs"] = int(epochs)
    run = training_run_start(config=config, started_by=request.user)
    messages.success(request, f"Training run #{run.pk} is queued.")
    return redirect("training-detail", pk=run.pk)
