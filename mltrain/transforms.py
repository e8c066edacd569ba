"""Image transforms built from a preprocessing dict (the one stored on every checkpoint and ModelVersion).

Evaluation: resize the shorter side to round(H / crop_pct) with the model's interpolation, center crop H×H, to
tensor, normalise with the model's own mean/std. Training augmentation depends on the family (SPEC): transformers
and CLIP models get a conservative RandomResizedCrop(scale 0.9–1.0) + flip + light ColorJitter and no rotation;
CNNs get resize + random crop + flip + small rotation + ColorJitter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from PIL import Image
from torchvision import transforms as T

_INTERPOLATION = {"bicubic": T.InterpolationMode.BICUBIC, "bilinear": T.InterpolationMode.BILINEAR}

ImageTransform = Callable[[Image.Image], torch.Tensor]


def _size(preprocessing: dict[str, Any]) -> int:
    return int(preprocessing["input_size"][-1])


def decode_min_side(preprocessing: dict[str, Any]) -> int:
    """The shorter side the evaluation transform resizes to; JPEGs can be decoded at reduced scale down to it."""
    return round(_size(preprocessing) / float(preprocessing["crop_pct"]))


def _interpolation(preprocessing: dict[str, Any]) -> T.InterpolationMode:
    return _INTERPOLATION.get(preprocessing.get("interpolation", "bilinear"), T.InterpolationMode.BILINEAR)


def _to_normalized_tensor(preprocessing: dict[str, Any]) -> list[Any]:
    return [T.ToTensor(), T.Normalize(mean=preprocessing["mean"], std=preprocessing["std"])]


def eval_transform(preprocessing: dict[str, Any]) -> ImageTransform:
    """PIL RGB image → normalised float tensor [3, H, W], exactly as at inference."""
    return T.Compose(
        [
            T.Resize(decode_min_side(preprocessing), interpolation=_interpolation(preprocessing)),
            T.CenterCrop(_size(preprocessing)),
            *_to_normalized_tensor(preprocessing),
        ]
    )


def train_transform(preprocessing: dict[str, Any], *, family: str) -> ImageTransform:
    """Training augmentation for ``family`` ("cnn" or "transformer")."""
    size = _size(preprocessing)
    interpolation = _interpolation(preprocessing)
    if family == "transformer":
        steps = [
            T.RandomResizedCrop(size, scale=(0.9, 1.0), interpolation=interpolation),
            T.RandomHorizontalFlip(),
            T.ColorJitter(0.1, 0.1, 0.1, 0.05),
        ]
    elif family == "cnn":
        steps = [
            T.Resize(size, interpolation=interpolation),
            T.RandomCrop(size),
            T.RandomHorizontalFlip(),
            T.RandomRotation(10, interpolation=T.InterpolationMode.BILINEAR),
            T.ColorJitter(0.2, 0.2, 0.2, 0.05),
        ]
    else:
        raise ValueError(f"Unknown architecture family {family!r}")
    return T.Compose([*steps, *_to_normalized_tensor(preprocessing)])
