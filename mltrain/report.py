"""The evaluation report (metrics.json): test metrics, calibration fitted on validation, the review threshold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mltrain.calibration import (
    expected_calibration_error,
    fit_temperature,
    nll,
    reliability_bins,
    review_threshold,
    softmax,
)
from mltrain.metrics import bootstrap_macro_f1_ci, classification_metrics, mean_entropies


def build_report(
    *,
    test_logits: np.ndarray,
    test_labels: np.ndarray,
    classes: Sequence[str],
    val_logits: np.ndarray | None = None,
    val_labels: np.ndarray | None = None,
    temperature: float | None = None,
    review_threshold_value: float | None = None,
    review_precision: float = 0.9,
    bootstrap_samples: int = 1000,
) -> dict[str, Any]:
    """Everything the evaluation shows, as plain JSON-able data.

    With validation logits, the temperature and the review threshold are fitted on them (training). Without,
    the given ``temperature`` and ``review_threshold_value`` of an existing version are applied (evaluate_model).
    """
    report: dict[str, Any] = {"n_test": len(test_labels)}
    has_val = val_logits is not None and val_labels is not None and len(val_labels) > 0
    if has_val:
        temperature = fit_temperature(val_logits, val_labels)
        val_probabilities = softmax(val_logits, temperature)
        val_predictions = val_probabilities.argmax(axis=1)
        threshold = review_threshold(
            val_probabilities.max(axis=1), val_predictions == val_labels, target_precision=review_precision
        )
        report.update(
            {
                "n_val": len(val_labels),
                "val_macro_f1": classification_metrics(val_labels, val_predictions, classes)["macro_f1"],
                "val_nll_before": nll(val_logits, val_labels, 1.0),
                "val_nll_after": nll(val_logits, val_labels, temperature),
                # The drift monitor compares recent predictions' mean confidence with this figure.
                "val_mean_confidence": float(val_probabilities.max(axis=1).mean()),
                "review_threshold": threshold["review_threshold"],
                "auto_accept_share": threshold["auto_accept_share"],
                "auto_accept_precision": threshold["auto_accept_precision"],
                "review_precision_target": review_precision,
                "review_precision_reached": threshold["reached"],
            }
        )
    else:
        temperature = 1.0 if temperature is None else float(temperature)
        report["review_threshold"] = 0.5 if review_threshold_value is None else float(review_threshold_value)
    report["temperature"] = float(temperature)

    raw = softmax(test_logits, 1.0)
    calibrated = softmax(test_logits, temperature)
    predictions = calibrated.argmax(axis=1)
    report.update(classification_metrics(test_labels, predictions, classes))
    report["macro_f1_ci95"] = bootstrap_macro_f1_ci(test_labels, predictions, n_resamples=bootstrap_samples)
    report["ece_before"] = expected_calibration_error(raw, test_labels)
    report["ece"] = expected_calibration_error(calibrated, test_labels)
    report["reliability"] = {
        "before": reliability_bins(raw, test_labels),
        "after": reliability_bins(calibrated, test_labels),
    }
    report["test_nll_before"] = nll(test_logits, test_labels, 1.0)
    report["test_nll_after"] = nll(test_logits, test_labels, temperature)
    right, wrong = mean_entropies(calibrated, test_labels)
    report["mean_entropy_correct"], report["mean_entropy_wrong"] = right, wrong
    accepted = calibrated.max(axis=1) >= report["review_threshold"]
    report["test_auto_accept_share"] = float(accepted.mean()) if len(accepted) else 0.0
    report["test_auto_accept_precision"] = (
        float((predictions[accepted] == test_labels[accepted]).mean()) if accepted.any() else None
    )
    report["classes"] = list(classes)
    return report


def format_report(report: dict[str, Any]) -> str:
    """The report as the commands print it."""
    low, high = report["macro_f1_ci95"]
    lines = [
        f"test images: {report['n_test']}" + (f"   validation images: {report['n_val']}" if "n_val" in report else ""),
        f"accuracy {report['accuracy']:.4f}   macro-F1 {report['macro_f1']:.4f} (95% CI {low:.4f}–{high:.4f})"
        f"   micro-F1 {report['micro_f1']:.4f}",
        f"macro precision {report['macro_precision']:.4f}   macro recall {report['macro_recall']:.4f}",
        f"temperature {report['temperature']:.3f}   ECE before {report['ece_before']:.4f} → after {report['ece']:.4f}",
    ]
    if "val_macro_f1" in report:
        lines.append(
            f"validation macro-F1 {report['val_macro_f1']:.4f}   NLL {report['val_nll_before']:.4f} → "
            f"{report['val_nll_after']:.4f}"
        )
    right, wrong = report["mean_entropy_correct"], report["mean_entropy_wrong"]
    lines.append(
        "mean entropy: right "
        + (f"{right:.3f}" if right is not None else "n/a")
        + "   wrong "
        + (f"{wrong:.3f}" if wrong is not None else "n/a")
    )
    share = report.get("auto_accept_share")
    lines.append(
        f"review threshold {report['review_threshold']:.4f}"
        + (f" (auto-accepts {share:.1%} of validation" if share is not None else " (")
        + f"; {report['test_auto_accept_share']:.1%} of test)"
    )
    lines.append(f"{'class':<28} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}")
    for code, row in report["per_class"].items():
        lines.append(
            f"{code:<28} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>6.3f} {row['support']:>7d}"
        )
    lines.append("confusion matrix (rows true, columns predicted, class order as above):")
    lines += [" ".join(f"{value:>2d}" for value in row) for row in report["confusion_matrix"]]
    return "\n".join(lines)
