"""The checkpoint file format shared by training, registration and the inference engine.

A checkpoint is a ``torch.save``'d dict: ``format_version``, ``architecture`` (registry name), ``classes`` (style
codes in output order), ``preprocessing`` (the evaluation transform), ``state_dict``, and when known
``temperature`` and ``review_threshold``. It loads with ``weights_only=True``: only tensors and plain data.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mltrain.architectures import create_model

FORMAT_VERSION = 1
REQUIRED_KEYS = ("format_version", "architecture", "classes", "preprocessing", "state_dict")


class CheckpointError(ValueError):
    """The file is not a usable Atelier checkpoint."""


def save_checkpoint(
    path: str | Path,
    *,
    architecture: str,
    state_dict: dict[str, torch.Tensor],
    classes: list[str],
    preprocessing: dict[str, Any],
    **extra: Any,
) -> str:
    """Write the checkpoint atomically (temp file + rename) and return its sha256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": FORMAT_VERSION,
        "architecture": architecture,
        "classes": list(classes),
        "preprocessing": dict(preprocessing),
        "state_dict": {key: value.detach().cpu() for key, value in state_dict.items()},
        **extra,
    }
    temporary = path.with_name(path.name + ".tmp")
    torch.save(payload, temporary)
    temporary.replace(path)
    return sha256_of(path)


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read and validate a checkpoint dict (CPU tensors)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"Checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises pickle/zip/runtime errors for foreign or truncated files
        raise CheckpointError(f"Checkpoint {path} cannot be read: {exc}") from exc
    if not isinstance(payload, dict):
        raise CheckpointError(f"Checkpoint {path} is not a dict")
    missing = [key for key in REQUIRED_KEYS if key not in payload]
    if missing:
        raise CheckpointError(f"Checkpoint {path} lacks {', '.join(missing)}")
    if payload["format_version"] != FORMAT_VERSION:
        raise CheckpointError(f"Checkpoint {path} has format version {payload['format_version']}, not {FORMAT_VERSION}")
    return payload


def model_from_checkpoint(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """Build the registered architecture with len(classes) outputs, load the weights strictly; CPU, eval mode.

    Returns (model, checkpoint dict without the state dict).
    """
    payload = load_checkpoint(path)
    model = create_model(payload["architecture"], num_classes=len(payload["classes"]), pretrained=False)
    try:
        model.load_state_dict(payload.pop("state_dict"), strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"Checkpoint {path} does not fit {payload['architecture']}: {exc}") from exc
    model.eval()
    return model, payload
