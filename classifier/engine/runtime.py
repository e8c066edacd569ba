"""One engine per process, bound to the active ModelVersion.

Every batch asks the database which version is active (one indexed query), so activating another version
switches the workers without a restart. Before a checkpoint is loaded its bytes are checked against the
version's sha256: a mismatch or a missing file refuses that version and the last good one serves again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from django.conf import settings

from classifier.engine.core import InferenceEngine
from classifier.models import ModelVersion
from classifier.services.registry import file_sha256, model_version_fallback
from config.metrics import MODEL_LOAD_FAILURES
from curation.models import Style

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_loaded: LoadedEngine | None = None


@dataclass(frozen=True)
class LoadedEngine:
    version: ModelVersion
    engine: InferenceEngine


class CheckpointRejected(Exception):
    """The checkpoint file is missing or its bytes do not match the recorded sha256."""


def _verified_checkpoint(version: ModelVersion) -> str:
    try:
        digest = file_sha256(version.checkpoint_path)
    except FileNotFoundError as exc:
        raise CheckpointRejected(f"checkpoint file is missing: {version.checkpoint_path}") from exc
    except OSError as exc:
        raise CheckpointRejected(f"checkpoint file cannot be read: {exc}") from exc
    if digest != version.checkpoint_sha256:
        raise CheckpointRejected(
            f"checkpoint sha256 mismatch: file has {digest}, version records {version.checkpoint_sha256}"
        )
    return version.checkpoint_path


def engine_build(*, version: ModelVersion) -> InferenceEngine:
    """Verify, load and warm up ``version``'s checkpoint. Raises ``CheckpointRejected`` for a bad file."""
    from mltrain.checkpoint import CheckpointError, model_from_checkpoint

    path = _verified_checkpoint(version)
    unknown = sorted(set(version.classes) - set(Style.objects.values_list("code", flat=True)))
    if unknown:
        raise CheckpointRejected(f"the version's classes are not styles of this collection: {', '.join(unknown)}")
    try:
        model, meta = model_from_checkpoint(path)
    except CheckpointError as exc:
        raise CheckpointRejected(str(exc)) from exc
    if list(meta["classes"]) != list(version.classes):
        raise CheckpointRejected("the checkpoint's class list differs from the version's")
    options = settings.ATELIER
    return InferenceEngine(
        model=model,
        classes=version.classes,
        preprocessing=version.preprocessing,
        temperature=version.temperature,
        device=options.get("INFERENCE_DEVICE", "auto"),
        batch_size=options.get("INFERENCE_BATCH_SIZE", 32),
        decode_workers=options.get("INFERENCE_DECODE_WORKERS"),
        torch_threads=options.get("INFERENCE_TORCH_THREADS"),
        cpu_bf16=options.get("INFERENCE_CPU_BF16"),
        name=version.name,
    )


def active_engine() -> LoadedEngine | None:
    """The engine for the active version, loading or switching as needed; None when no version can serve.

    A version whose checkpoint fails verification is refused (with its reason, for the dashboard) and the
    most recently active good version is reactivated; that repeats until one loads or none is left.
    """
    global _loaded
    with _lock:
        for _attempt in range(10):
            version = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
            if version is None:
                return None
            if _loaded is not None and _loaded.version.pk == version.pk:
                return _loaded
            try:
                engine = engine_build(version=version)
            except CheckpointRejected as exc:
                logger.error("model version %s refused: %s", version.name, exc)
                MODEL_LOAD_FAILURES.labels(model_version=version.name).inc()
                model_version_fallback(version=version, reason=str(exc))
                continue
            logger.info("engine switched to model version %s (%s)", version.name, engine.device)
            if _loaded is not None:
                _loaded.engine.close()
            _loaded = LoadedEngine(version=version, engine=engine)
            return _loaded
        return None


def engine_unload() -> None:
    """Forget the loaded engine (tests, and workers that want their memory back)."""
    global _loaded
    with _lock:
        if _loaded is not None:
            _loaded.engine.close()
        _loaded = None
