"""Cached backbone features for ``--freeze-backbone``: decode and run the frozen backbone once per image, then
train only the classifier head on the stored features (seconds per epoch on a CPU instead of minutes).

The cache file is keyed by everything that changes the features: architecture, weights source, preprocessing and
the exact list of images, so a stale cache can never be reused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from mltrain.architectures import forward_features
from mltrain.data import ImageDataset, Sample
from mltrain.train import autocast_for


def features_cache_key(
    *, architecture: str, weights_source: str, preprocessing: dict[str, Any], samples: Sequence[Sample]
) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([architecture, weights_source, preprocessing], sort_keys=True).encode())
    for sample in samples:
        digest.update(f"{sample.key}\t{sample.label}\t{sample.path}\n".encode())
    return digest.hexdigest()[:32]


@torch.no_grad()
def extract_features(
    model: nn.Module,
    dataset: ImageDataset,
    *,
    batch_size: int,
    num_workers: int,
    device: str,
    description: str = "features",
    show_progress: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pre-logits features (N×D, float32, CPU) and labels (N) for every image, in dataset order."""
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    features, labels = [], []
    for images, targets in tqdm(loader, desc=description, leave=False, disable=not show_progress):
        with autocast_for(device):
            batch = forward_features(model, images.to(device))
        features.append(batch.float().cpu())
        labels.append(targets)
    return torch.cat(features), torch.cat(labels)


def cached_features(
    model: nn.Module,
    dataset: ImageDataset,
    *,
    cache_dir: Path | None,
    cache_key: str,
    batch_size: int,
    num_workers: int,
    device: str,
    description: str = "features",
    show_progress: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Features from the cache when present (third value True), else extracted and stored."""
    path = cache_dir / f"{cache_key}.pt" if cache_dir else None
    if path is not None and path.is_file():
        stored = torch.load(path, map_location="cpu", weights_only=True)
        return stored["features"], stored["labels"], True
    features, labels = extract_features(
        model,
        dataset,
        batch_size=batch_size,
        num_workers=num_workers,
        device=device,
        description=description,
        show_progress=show_progress,
    )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        torch.save({"features": features, "labels": labels}, temporary)
        temporary.replace(path)
    return features, labels, False
