"""Evaluating an existing checkpoint on any folder of labelled images (``evaluate_model``; activation checks)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn
from torch.utils.data import DataLoader

from mltrain.checkpoint import model_from_checkpoint
from mltrain.data import ImageDataset, Sample, order_classes
from mltrain.plots import write_report_plots
from mltrain.report import build_report
from mltrain.train import predict
from mltrain.transforms import decode_min_side, eval_transform

# Logit given to classes the model does not know: softmax gives them probability 0, so they are never predicted.
UNKNOWN_CLASS_LOGIT = -1e4


def label_space(model_classes: Sequence[str], samples: Sequence[Sample]) -> list[str]:
    """The model's classes, then any label in ``samples`` the model was not trained on (it always gets them wrong)."""
    extra = [code for code in order_classes(sample.label for sample in samples) if code not in set(model_classes)]
    return list(model_classes) + extra


def predict_samples(
    model: nn.Module,
    *,
    preprocessing: dict[str, Any],
    model_classes: Sequence[str],
    samples: Sequence[Sample],
    batch_size: int = 32,
    num_workers: int = 0,
    device: str = "cpu",
    show_progress: bool = True,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Logits over ``label_space`` (unknown classes padded), labels, and that label space."""
    classes = label_space(model_classes, samples)
    dataset = ImageDataset(
        samples, classes=classes, transform=eval_transform(preprocessing), min_side=decode_min_side(preprocessing)
    )
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=num_workers)
    logits, labels = predict(
        model.to(device), loader, device=device, description="evaluate", show_progress=show_progress
    )
    if len(classes) > len(model_classes):
        padding = np.full((len(logits), len(classes) - len(model_classes)), UNKNOWN_CLASS_LOGIT, dtype=logits.dtype)
        logits = np.concatenate([logits, padding], axis=1)
    return logits, labels, classes


def evaluate_checkpoint(
    checkpoint_path: str | Path,
    *,
    samples: Sequence[Sample],
    output_dir: str | Path | None = None,
    temperature: float | None = None,
    review_threshold_value: float | None = None,
    batch_size: int = 32,
    num_workers: int = 0,
    device: str = "cpu",
    bootstrap_samples: int = 1000,
    show_progress: bool = True,
) -> dict[str, Any]:
    """The full evaluation report of a checkpoint on ``samples``; written with its pictures when ``output_dir``.

    Temperature and review threshold come from the arguments (a registered version's), else the checkpoint's.
    """
    if not samples:
        raise ValueError("No labelled images to evaluate on")
    model, meta = model_from_checkpoint(checkpoint_path)
    logits, labels, classes = predict_samples(
        model,
        preprocessing=meta["preprocessing"],
        model_classes=meta["classes"],
        samples=samples,
        batch_size=batch_size,
        num_workers=num_workers,
        device=device,
        show_progress=show_progress,
    )
    report = build_report(
        test_logits=logits,
        test_labels=labels,
        classes=classes,
        temperature=temperature if temperature is not None else meta.get("temperature", 1.0),
        review_threshold_value=(
            review_threshold_value if review_threshold_value is not None else meta.get("review_threshold", 0.5)
        ),
        bootstrap_samples=bootstrap_samples,
    )
    report["architecture"] = meta["architecture"]
    report["unknown_classes"] = classes[len(meta["classes"]) :]
    if output_dir is not None:
        output_dir = Path(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        report["plots"] = write_report_plots(report, classes, [], output_dir)
        (output_dir / "metrics.json").write_text(json.dumps(report, indent=2))
    return report
