"""The training library's Django adapter: verified labels in, TrainingRun progress and ModelVersions out.

The only module of ``mltrain`` (besides the management commands) that imports Django. ``train_models_run`` is the
one entry point shared by ``manage.py train_models`` and the Celery job ``run_training_job``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from classifier.models import ModelVersion, TrainingRun
from classifier.services.registry import active_model_version, model_version_activate, model_version_register
from curation.models import Artwork
from mltrain.architectures import get_spec
from mltrain.config import PRESETS, TrainConfig, resolve_device
from mltrain.data import Sample, merge_samples, samples_from_folder
from mltrain.evaluation import predict_samples
from mltrain.experiment import ExperimentResult, run_experiment
from mltrain.metrics import classification_metrics
from mltrain.train import broadcast_from_main, init_distributed

LOG_TAIL_LINES = 60
PROGRESS_WRITE_INTERVAL_S = 2.0
Writer = Callable[[str], None]

# Options of train_models / TrainingRun.config and their defaults. Anything else in a config is refused.
TRAIN_OPTION_DEFAULTS: dict[str, Any] = {
    "data": None,
    "from_db": False,
    "models": None,
    "preset": "",
    "epochs": None,
    "batch_size": None,
    "device": "auto",
    "freeze_backbone": False,
    "pretrained": True,
    "weights": None,
    "output": None,
    "activate_best": False,
    "resume": False,
    "split": "stratified",
    "artgan_dir": None,
    "input_size": None,
    "num_workers": None,
    "review_precision": None,
    "patience": None,
    "lr": None,
    "seed": None,
    "time_budget_minutes": None,
}


# --- labels from the database -------------------------------------------------------------------------------
def verified_samples() -> list[Sample]:
    """Every artwork with a verified style (reviewer or dataset label) whose original file is present."""
    samples = []
    artworks = (
        Artwork.objects.filter(verified_style__isnull=False)
        .exclude(label_source=Artwork.LabelSource.NONE)
        .select_related("verified_style")
        .order_by("id")
    )
    for artwork in artworks:
        try:
            path = artwork.original.path
        except (ValueError, NotImplementedError):
            continue
        if Path(path).is_file():
            samples.append(
                Sample(path=path, label=artwork.verified_style.code, key=f"artwork:{artwork.pk}", sha256=artwork.sha256)
            )
    return samples


def training_samples(*, data: str | None, from_db: bool) -> list[Sample]:
    """The folder's images and/or the database's verified labels; the database's label wins for the same bytes."""
    if not data and not from_db:
        raise ValueError("Give --data DIR and/or --from-db")
    database = verified_samples() if from_db else []
    folder = samples_from_folder(data, with_sha256=bool(database)) if data else []
    samples = merge_samples(folder, database)
    if not samples:
        raise ValueError("No labelled images: the folder is empty and no artwork has a verified style")
    return samples


# --- TrainingRun progress -----------------------------------------------------------------------------------
class RunRecorder:
    """Writes a TrainingRun's progress, current step and log tail; throttled so that training is not slowed."""

    def __init__(self, run: TrainingRun, *, stdout: Writer | None = None, share: tuple[float, float] = (0.0, 1.0)):
        self.run = run
        self.stdout = stdout
        self.share = share
        self._last_write = 0.0
        self._lines: list[str] = run.log_tail.splitlines()

    def for_part(self, index: int, count: int) -> RunRecorder:
        recorder = RunRecorder(self.run, stdout=self.stdout, share=(index / count, (index + 1) / count))
        recorder._lines = self._lines
        return recorder

    def log(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout(message)
        self._lines.append(f"{timezone.now():%H:%M:%S} {message}")
        del self._lines[:-LOG_TAIL_LINES]
        self._write(force=True)

    def progress(self, fraction: float, step: str) -> None:
        low, high = self.share
        self.run.progress = min(1.0, max(0.0, low + (high - low) * fraction))
        self.run.current_step = step[:255]
        self._write(force=fraction >= 1.0)

    def _write(self, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last_write < PROGRESS_WRITE_INTERVAL_S:
            return
        self._last_write = now
        self.run.log_tail = "\n".join(self._lines)
        self.run.save(update_fields=["progress", "current_step", "log_tail"])


def training_run_start(*, run: TrainingRun) -> TrainingRun:
    run.status = TrainingRun.Status.RUNNING
    run.started_at = timezone.now()
    run.progress = 0.0
    run.error = ""
    run.save(update_fields=["status", "started_at", "progress", "error"])
    return run


def training_run_finish(*, run: TrainingRun, error: str = "") -> TrainingRun:
    run.status = TrainingRun.Status.FAILED if error else TrainingRun.Status.SUCCEEDED
    run.error = error
    run.finished_at = timezone.now()
    if not error:
        run.progress = 1.0
        run.current_step = "done"
    run.save(update_fields=["status", "error", "finished_at", "progress", "current_step", "log_tail"])
    return run


# --- registering and activating -----------------------------------------------------------------------------
def _unique_version_name(base: str) -> str:
    name, suffix = base, 2
    while ModelVersion.objects.filter(name=name).exists():
        name, suffix = f"{base}-{suffix}", suffix + 1
    return name


def experiment_register(
    *, result: ExperimentResult, training_run: TrainingRun | None = None, actor: AbstractBaseUser | None = None
) -> ModelVersion:
    """Register a finished run's checkpoint as a candidate ModelVersion with its calibration and metrics."""
    metrics = {key: value for key, value in result.metrics.items() if key != "classes"}
    metrics["run_dir"] = str(result.run_dir)
    return model_version_register(
        name=_unique_version_name(result.run_dir.name),
        architecture=result.architecture,
        timm_name=result.timm_name,
        checkpoint_path=result.checkpoint_path,
        classes=result.classes,
        preprocessing=result.preprocessing,
        temperature=result.metrics["temperature"],
        review_threshold=result.metrics["review_threshold"],
        metrics=metrics,
        training_config=result.config,
        dataset_fingerprint=result.dataset_fingerprint,
        training_run=training_run,
        actor=actor,
    )


def version_macro_f1_on(*, version: ModelVersion, samples: Sequence[Sample], device: str = "cpu") -> float:
    """Macro-F1 of a registered version on ``samples`` (labels it does not know count as errors)."""
    from mltrain.checkpoint import model_from_checkpoint

    model, meta = model_from_checkpoint(version.checkpoint_path)
    logits, labels, classes = predict_samples(
        model, preprocessing=meta["preprocessing"], model_classes=meta["classes"], samples=samples, device=device
    )
    return classification_metrics(labels, logits.argmax(axis=1), classes)["macro_f1"]


def best_version_activate(
    *,
    candidates: Sequence[tuple[ModelVersion, ExperimentResult]],
    samples: Sequence[Sample],
    actor: AbstractBaseUser | None = None,
    device: str = "cpu",
    stdout: Writer = print,
) -> ModelVersion | None:
    """Activate the candidate with the best validation macro-F1, if it beats the active version on its test split.

    Returns the activated version, or None (and says why) when it does not.
    """
    if not candidates:
        return None
    version, result = max(candidates, key=lambda item: item[1].metrics["val_macro_f1"])
    candidate_f1 = result.metrics["macro_f1"]
    active = active_model_version()
    if active is None:
        note = f"no active version; best validation macro-F1 {result.metrics['val_macro_f1']:.4f}"
    else:
        by_key = {sample.key: sample for sample in samples}
        test_samples = [by_key[key] for key in result.splits["test"]]
        try:
            active_f1 = version_macro_f1_on(version=active, samples=test_samples, device=device)
        except Exception as exc:  # a broken active checkpoint must not block activating a working one
            stdout(f"Active version {active.name} could not be evaluated ({exc}); activating {version.name}.")
            active_f1 = -1.0
        if candidate_f1 <= active_f1:
            stdout(
                f"Not activating {version.name}: its test macro-F1 {candidate_f1:.4f} does not beat the active "
                f"version {active.name} ({active_f1:.4f}) on the same {len(test_samples)} test images."
            )
            return None
        note = f"test macro-F1 {candidate_f1:.4f} beats {active.name} ({active_f1:.4f}) on the same test split"
    activated = model_version_activate(version=version, actor=actor, note=note)
    stdout(f"Activated {activated.name}: {note}.")
    return activated


# --- the shared entry point ---------------------------------------------------------------------------------
def normalize_options(options: dict[str, Any]) -> dict[str, Any]:
    """Fill defaults, apply a preset, split ``models``; refuse unknown options."""
    unknown = set(options) - set(TRAIN_OPTION_DEFAULTS)
    if unknown:
        raise ValueError(f"Unknown training options: {', '.join(sorted(unknown))}")
    merged = {**TRAIN_OPTION_DEFAULTS, **{key: value for key, value in options.items() if value is not None}}
    if merged["preset"]:
        if merged["preset"] not in PRESETS:
            raise ValueError(f"Unknown preset {merged['preset']!r}; choose one of: {', '.join(PRESETS)}")
        preset = dict(PRESETS[merged["preset"]])
        if not merged["models"]:
            merged["models"] = [preset.pop("architecture")]
        else:
            preset.pop("architecture")
        for key, value in preset.items():
            if options.get(key) in (None, False, "auto"):
                merged[key] = value
    models = merged["models"] or ["efficientnet_lite0"]
    if isinstance(models, str):
        models = [name.strip() for name in models.split(",") if name.strip()]
    for name in models:
        get_spec(name)  # unknown names fail before anything runs
    merged["models"] = models
    return merged


def _train_config(architecture: str, options: dict[str, Any]) -> TrainConfig:
    values: dict[str, Any] = {
        "architecture": architecture,
        "pretrained": options["pretrained"],
        "weights": options["weights"],
        "freeze_backbone": options["freeze_backbone"],
        "device": options["device"],
        "split": options["split"],
        "artgan_dir": options["artgan_dir"]
        or (str(Path(options["data"]).resolve().parent / "artgan_splits") if options["data"] else None),
        "preset": options["preset"],
    }
    for key in (
        "epochs",
        "batch_size",
        "input_size",
        "num_workers",
        "review_precision",
        "patience",
        "lr",
        "seed",
        "time_budget_minutes",
    ):
        if options[key] is not None:
            values[key] = options[key]
    return TrainConfig(**values)


def _run_dir(output: Path, architecture: str, *, resume: bool) -> Path:
    if resume:
        previous = sorted(
            (path for path in output.glob(f"{architecture}-*") if (path / "last.pt").is_file()),
            key=lambda path: path.stat().st_mtime,
        )
        if previous:
            return previous[-1]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return output / f"{architecture}-{stamp}"


def train_models_run(
    *,
    options: dict[str, Any],
    training_run: TrainingRun | None = None,
    started_by: AbstractBaseUser | None = None,
    stdout: Writer = print,
    show_progress: bool = True,
) -> list[ModelVersion]:
    """Train every requested model, record each as a TrainingRun with progress, register its ModelVersion, and
    optionally activate the best. With ``training_run`` (the Celery job), all models report into that one run.

    Under torchrun every rank trains; only rank 0 touches the database and returns versions.
    """
    options = normalize_options(options)
    device = resolve_device(options["device"])
    rank, _ = init_distributed(device)
    is_main = rank == 0
    output = Path(options["output"] or settings.ATELIER["MODEL_DIR"]).resolve()
    samples = training_samples(data=options["data"], from_db=options["from_db"]) if is_main else []
    samples = broadcast_from_main(samples)
    stdout(f"{len(samples)} labelled images; models: {', '.join(options['models'])}; output {output}")
    results: list[tuple[ModelVersion, ExperimentResult]] = []
    shared_run = training_run
    if shared_run is not None and is_main:
        training_run_start(run=shared_run)
    for index, architecture in enumerate(options["models"]):
        config = _train_config(architecture, options)
        run_dir = broadcast_from_main(_run_dir(output, architecture, resume=options["resume"]))
        run = shared_run
        if is_main and run is None:
            run = TrainingRun.objects.create(
                started_by=started_by,
                config={**{k: v for k, v in options.items() if k != "models"}, "models": [architecture]},
            )
            training_run_start(run=run)
        recorder = None
        if is_main:
            run.output_dir = str(run_dir)
            run.save(update_fields=["output_dir"])
            recorder = RunRecorder(run, stdout=stdout)
            if shared_run is not None:
                recorder = recorder.for_part(index, len(options["models"]))
        try:
            result = run_experiment(
                config,
                samples=samples,
                run_dir=run_dir,
                resume=options["resume"],
                cache_dir=output / ".feature-cache",
                progress=recorder.progress if recorder else None,
                log=recorder.log if recorder else None,
                show_progress=show_progress,
            )
        except BaseException as exc:  # also Ctrl-C / a soft time limit: the run must not stay "running"
            if is_main:
                reason = str(exc) or type(exc).__name__
                recorder.log(f"{architecture} failed: {reason}")
                training_run_finish(run=run, error=f"{architecture}: {reason}")
            raise
        if not is_main or result is None:
            continue
        with transaction.atomic():
            version = experiment_register(result=result, training_run=run, actor=started_by)
        recorder.log(
            f"registered {version.name}: test macro-F1 {result.metrics['macro_f1']:.4f} "
            f"(95% CI {result.metrics['macro_f1_ci95'][0]:.4f}–{result.metrics['macro_f1_ci95'][1]:.4f}), "
            f"checkpoint sha256 {result.checkpoint_sha256[:12]}…, {result.wall_seconds:.0f} s"
        )
        if shared_run is None:
            training_run_finish(run=run)
        results.append((version, result))
    if not is_main:
        return []
    if options["activate_best"]:
        best_version_activate(candidates=results, samples=samples, actor=started_by, device=device, stdout=stdout)
    if shared_run is not None:
        training_run_finish(run=shared_run)
    return [version for version, _ in results]


def run_training_job(training_run_id: int) -> list[int]:
    """Execute a queued TrainingRun whose ``config`` holds train_models options (for the Celery ``default`` queue).

    A missing run is skipped; a run that is not queued is left alone (a duplicate delivery does nothing).
    Returns the ids of the registered versions.
    """
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().filter(pk=training_run_id).first()
        if run is None or run.status != TrainingRun.Status.QUEUED:
            return []
        run.status = TrainingRun.Status.RUNNING
        run.save(update_fields=["status"])
    try:
        versions = train_models_run(
            options=dict(run.config), training_run=run, started_by=run.started_by, show_progress=False
        )
    except Exception as exc:
        run.refresh_from_db()
        if run.status != TrainingRun.Status.FAILED:
            training_run_finish(run=run, error=str(exc) or type(exc).__name__)
        return []
    return [version.pk for version in versions]


# --- bringing in checkpoints trained elsewhere --------------------------------------------------------------
_WRAPPER_PREFIXES = ("module.", "model.", "_orig_mod.")


def _strip_wrapper_prefixes(state_dict: dict[str, Any]) -> dict[str, Any]:
    """Drop DataParallel/DDP (``module.``), wrapper (``model.``) and torch.compile (``_orig_mod.``) prefixes."""
    for prefix in _WRAPPER_PREFIXES:
        if state_dict and all(key.startswith(prefix) for key in state_dict):
            state_dict = {key[len(prefix) :]: value for key, value in state_dict.items()}
    return state_dict


def _parse_classes(classes: str | Sequence[str] | None) -> list[str]:
    from curation.styles import STYLE_CODES
    from mltrain.data import canonical_style

    if classes is None:
        raise ValueError("A plain state dict needs --classes (style codes in output order, or 'artgan')")
    if isinstance(classes, str):
        if classes.strip().lower() == "artgan":
            return list(STYLE_CODES)
        classes = [code.strip() for code in classes.split(",") if code.strip()]
    parsed = [canonical_style(code) for code in classes]
    if len(set(parsed)) != len(parsed):
        raise ValueError("--classes lists a style twice")
    return parsed


def checkpoint_import(
    *,
    source: Path,
    output_dir: Path,
    architecture: str | None = None,
    classes: str | Sequence[str] | None = None,
    name: str | None = None,
    temperature: float | None = None,
    review_threshold: float | None = None,
    input_size: int | None = None,
    actor: AbstractBaseUser | None = None,
) -> ModelVersion:
    """Verify that ``source`` loads strictly into its architecture, store it as an Atelier checkpoint under
    ``output_dir/imported/<name>/model.pt`` and register it (sha256 of the stored file; the source's sha256 is
    kept in the training config). Nothing is written when verification fails.
    """
    import shutil

    import torch

    from mltrain.architectures import create_model, default_preprocessing, read_state_dict
    from mltrain.checkpoint import CheckpointError, load_checkpoint, model_from_checkpoint, save_checkpoint, sha256_of

    if not source.is_file():
        raise FileNotFoundError(f"Checkpoint {source} does not exist")
    source_sha256 = sha256_of(source)
    try:
        payload = load_checkpoint(source)
    except CheckpointError:
        payload = None

    if payload is not None:  # already an Atelier checkpoint: verify it builds and loads
        model_from_checkpoint(source)
        architecture = payload["architecture"]
        parsed_classes = list(payload["classes"])
        preprocessing = payload["preprocessing"]
        temperature = temperature if temperature is not None else float(payload.get("temperature", 1.0))
        review_threshold = (
            review_threshold if review_threshold is not None else float(payload.get("review_threshold", 0.5))
        )
    else:
        if not architecture:
            raise ValueError("A plain state dict needs --arch (the registered architecture it was trained as)")
        get_spec(architecture)
        parsed_classes = _parse_classes(classes)
        try:
            state_dict = _strip_wrapper_prefixes(read_state_dict(source))
        except Exception as exc:  # unpickling/zip errors: not a state dict at all
            raise CheckpointError(f"{source} is not a readable state dict: {exc}") from exc
        model = create_model(architecture, num_classes=len(parsed_classes), pretrained=False)
        try:
            model.load_state_dict(state_dict, strict=True)
        except RuntimeError as exc:
            raise CheckpointError(
                f"{source} does not load strictly into {architecture} with {len(parsed_classes)} classes: "
                f"{str(exc)[:600]}"
            ) from exc
        preprocessing = default_preprocessing(architecture, input_size=input_size or 224)
        temperature = 1.0 if temperature is None else temperature
        review_threshold = 0.5 if review_threshold is None else review_threshold
    if temperature <= 0 or not 0 <= review_threshold <= 1:
        raise ValueError("temperature must be positive and the review threshold within [0, 1]")

    name = _unique_version_name(name or f"{architecture}-imported-{source.stem}")
    target_dir = output_dir.resolve() / "imported" / name
    target = target_dir / "model.pt"
    target_dir.mkdir(parents=True, exist_ok=True)
    try:
        if payload is not None:
            shutil.copyfile(source, target)
        else:
            save_checkpoint(
                target,
                architecture=architecture,
                state_dict={key: torch.as_tensor(value) for key, value in model.state_dict().items()},
                classes=parsed_classes,
                preprocessing=preprocessing,
                temperature=temperature,
                review_threshold=review_threshold,
                timm_name=get_spec(architecture).timm_name,
            )
        model_from_checkpoint(target)  # the stored file itself must load, as inference will load it
        return model_version_register(
            name=name,
            architecture=architecture,
            timm_name=get_spec(architecture).timm_name,
            checkpoint_path=target,
            classes=parsed_classes,
            preprocessing=preprocessing,
            temperature=temperature,
            review_threshold=review_threshold,
            training_config={"imported_from": str(source.resolve()), "source_sha256": source_sha256},
            actor=actor,
        )
    except Exception:
        shutil.rmtree(target_dir, ignore_errors=True)
        raise
