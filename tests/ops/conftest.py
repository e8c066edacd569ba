"""Fixtures for the operations suites: a real EfficientNet-Lite0 checkpoint registered as the active version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from curation.styles import STYLE_CODES


@pytest.fixture(scope="session")
def lite0_checkpoint(tmp_path_factory) -> Path:
    from mltrain.architectures import create_model, default_preprocessing
    from mltrain.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = create_model("efficientnet_lite0", num_classes=len(STYLE_CODES), pretrained=True)
    path = tmp_path_factory.mktemp("ops-checkpoints") / "lite0.pt"
    save_checkpoint(
        path,
        architecture="efficientnet_lite0",
        state_dict=model.state_dict(),
        classes=list(STYLE_CODES),
        preprocessing=default_preprocessing("efficientnet_lite0"),
    )
    return path


@pytest.fixture(autouse=True)
def _fresh_engine():
    from classifier.engine.runtime import engine_unload

    engine_unload()
    yield
    engine_unload()


@pytest.fixture
def active_version(db, tmp_path, lite0_checkpoint):
    """``active_version(name="ops-v1", metrics=None)``: a registered, activated version with its own checkpoint."""
    from classifier.services.registry import model_version_activate, model_version_register
    from mltrain.architectures import default_preprocessing

    def make(name: str = "ops-v1", *, metrics: dict | None = None, review_threshold: float = 0.5):
        path = tmp_path / f"{name}.pt"
        shutil.copyfile(lite0_checkpoint, path)
        version = model_version_register(
            name=name,
            architecture="efficientnet_lite0",
            checkpoint_path=path,
            classes=list(STYLE_CODES),
            preprocessing=default_preprocessing("efficientnet_lite0"),
            metrics=metrics,
            review_threshold=review_threshold,
        )
        return model_version_activate(version=version)

    return make
