"""Fixtures for the operations suites: a real EfficientNet-Lite0 checkpoint registered as the active version."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.checkpoints import lite0_checkpoint_write, lite0_version_register


@pytest.fixture(scope="session")
def lite0_checkpoint(tmp_path_factory) -> Path:
    return lite0_checkpoint_write(tmp_path_factory.mktemp("ops-checkpoints") / "lite0.pt")


@pytest.fixture(autouse=True)
def _fresh_engine():
    from classifier.engine.runtime import engine_unload

    engine_unload()
    yield
    engine_unload()


@pytest.fixture
def active_version(db, tmp_path, lite0_checkpoint):
    """``active_version(name="ops-v1", metrics=None)``: a registered, activated version with its own checkpoint."""

    def make(name: str = "ops-v1", *, metrics: dict | None = None, review_threshold: float = 0.5):
        return lite0_version_register(
            name=name, checkpoint=lite0_checkpoint, folder=tmp_path, metrics=metrics, review_threshold=review_threshold
        )

    return make
