"""Report pictures as PNG (matplotlib, Agg backend: no display needed on servers and workers)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

PLOT_FILES = {
    "confusion_matrix": "confusion_matrix.png",
    "reliability": "reliability.png",
    "per_class_f1": "per_class_f1.png",
    "training_curves": "training_curves.png",
}


def plot_confusion_matrix(matrix: Sequence[Sequence[int]], classes: Sequence[str], path: Path) -> None:
    values = np.asarray(matrix, dtype=float)
    row_sums = values.sum(axis=1, keepdims=True)
    normalised = np.divide(values, row_sums, out=np.zeros_like(values), where=row_sums > 0)
    size = max(6.0, 0.35 * len(classes) + 3)
    figure, axes = plt.subplots(figsize=(size, size))
    image = axes.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(classes)), classes, rotation=90, fontsize=7)
    axes.set_yticks(range(len(classes)), classes, fontsize=7)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title("Confusion matrix (row-normalised)")
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_reliability(before: list[dict], after: list[dict], path: Path) -> None:
    figure, axes = plt.subplots(figsize=(5.5, 5.5))
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    for bins, label in ((before, "before temperature"), (after, "after temperature")):
        points = [(item["confidence"], item["accuracy"]) for item in bins if item["count"]]
        if points:
            xs, ys = zip(*points, strict=True)
            axes.plot(xs, ys, marker="o", label=label)
    axes.set_xlabel("confidence")
    axes.set_ylabel("accuracy")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_title("Reliability (test split)")
    axes.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_per_class_f1(per_class: dict[str, dict[str, Any]], path: Path) -> None:
    classes = list(per_class)
    scores = [per_class[code]["f1"] for code in classes]
    figure, axes = plt.subplots(figsize=(8, max(4.0, 0.28 * len(classes) + 1)))
    axes.barh(range(len(classes)), scores, color="tab:blue")
    axes.set_yticks(range(len(classes)), [f"{code} ({per_class[code]['support']})" for code in classes], fontsize=7)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("F1 (test support in brackets)")
    axes.set_title("Per-class F1")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_training_curves(history: list[dict[str, float]], path: Path) -> None:
    figure, (loss_axes, f1_axes) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = [item["epoch"] for item in history]
    loss_axes.plot(epochs, [item["train_loss"] for item in history], marker="o", label="train")
    loss_axes.plot(epochs, [item["val_loss"] for item in history], marker="o", label="validation")
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel("loss")
    loss_axes.legend()
    f1_axes.plot(epochs, [item["val_macro_f1"] for item in history], marker="o", color="tab:green")
    f1_axes.set_xlabel("epoch")
    f1_axes.set_ylabel("validation macro-F1")
    f1_axes.set_ylim(0, 1)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_report_plots(report: dict[str, Any], classes: Sequence[str], history: list[dict], folder: Path) -> dict:
    """Write every picture the report has data for into ``folder``; returns {kind: file name}."""
    written = {}
    plot_confusion_matrix(report["confusion_matrix"], classes, folder / PLOT_FILES["confusion_matrix"])
    written["confusion_matrix"] = PLOT_FILES["confusion_matrix"]
    plot_reliability(
        report["reliability"]["before"], report["reliability"]["after"], folder / PLOT_FILES["reliability"]
    )
    written["reliability"] = PLOT_FILES["reliability"]
    plot_per_class_f1(report["per_class"], folder / PLOT_FILES["per_class_f1"])
    written["per_class_f1"] = PLOT_FILES["per_class_f1"]
    if history:
        plot_training_curves(history, folder / PLOT_FILES["training_curves"])
        written["training_curves"] = PLOT_FILES["training_curves"]
    return written
