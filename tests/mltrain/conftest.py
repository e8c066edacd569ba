"""Fixtures for the training-library tests: small real subsets of the WikiArt sample, linked (never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

# Tests share two CPU cores with everything else; one thread per process keeps timings predictable.
torch.set_num_threads(1)
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# A small subset with the two tiniest classes: 4 classes, 3 + 4 + 8 + 8 images.
SUBSET_CLASSES = {"Action_painting": 4, "Analytical_Cubism": 3, "Ukiyo_e": 8, "Pointillism": 8}


def link_subset(sample_dir: Path, target: Path, per_class: dict[str, int]) -> Path:
    """A folder tree of symlinks to the first N images (sorted by name) of each class."""
    for style, count in per_class.items():
        style_dir = target / style
        style_dir.mkdir(parents=True)
        images = sorted(path for path in (sample_dir / style).iterdir() if path.is_file())[:count]
        for image in images:
            (style_dir / image.name).symlink_to(image)
    return target


@pytest.fixture
def subset_dir(sample_dir, tmp_path) -> Path:
    return link_subset(sample_dir, tmp_path / "subset", SUBSET_CLASSES)
