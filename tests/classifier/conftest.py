"""Real checkpoints for the classifier suites (see tests/checkpoints.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.checkpoints import lite0_checkpoint_write, lite0_version_register


@pytest.fixture(scope="session")
def lite0_checkpoints(tmp_path_factory) -> dict[str, Path]:
    """Two checkpoints that differ only in their (seeded) head, so they predict differently."""
    folder = tmp_path_factory.mktemp("checkpoints")
    return {
        "a": lite0_checkpoint_write(folder / "lite0-a.pt", seed=0),
        "b": lite0_checkpoint_write(folder / "lite0-b.pt", seed=1),
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

    def make(name: str, *, which: str = "a", temperature: float = 1.0, review_threshold: float = 0.5, activate=True):
        return lite0_version_register(
            name=name,
            checkpoint=lite0_checkpoints[which],
            folder=tmp_path,
            temperature=temperature,
            review_threshold=review_threshold,
            activate=activate,
        )

    return make
