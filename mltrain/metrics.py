"""Classification metrics on predictions, computed with scikit-learn so that they agree with it by construction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

BOOTSTRAP_RANDOM_STATE = 0


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro/micro F1, macro precision/recall, per-class P/R/F1/support and the confusion matrix.

    Macro averages follow scikit-learn's default label set: the classes present in ``y_true`` or ``y_pred``.
    The confusion matrix and per-class table cover every class (rows: true, columns: predicted).
    """
    labels = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    macro_precision, macro_recall, macro_f1, _ = precision_recall_fscore_support(
        y_true, y_pred, average="macro", zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(macro_f1),
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_precision": float(macro_precision),
        "macro_recall": float(macro_recall),
        "per_class": {
            code: {
                "precision": float(precision[index]),
                "recall": float(recall[index]),
                "f1": float(f1[index]),
                "support": int(support[index]),
            }
            for index, code in enumerate(classes)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def bootstrap_macro_f1_ci(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    random_state: int = BOOTSTRAP_RANDOM_STATE,
) -> list[float]:
    """Percentile bootstrap interval for macro-F1, resampling test items with replacement within each true class.

    Stratified resampling keeps every class's support as in the test split: with test classes of 1–15 images a
    plain resample often drops a class entirely, which biases every resampled macro-F1 downwards.
    """
    rng = np.random.RandomState(random_state)
    members = [np.flatnonzero(y_true == label) for label in np.unique(y_true)]
    scores = np.empty(n_resamples)
    for index in range(n_resamples):
        picks = np.concatenate([group[rng.randint(0, len(group), len(group))] for group in members])
        scores[index] = f1_score(y_true[picks], y_pred[picks], average="macro", zero_division=0)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(scores, [tail, 100 - tail])
    return [float(low), float(high)]


def entropy(probabilities: np.ndarray) -> np.ndarray:
    """Shannon entropy in nats of each row of a probability matrix."""
    clipped = np.clip(probabilities, 1e-12, 1.0)
    return -(probabilities * np.log(clipped)).sum(axis=1)


def mean_entropies(probabilities: np.ndarray, y_true: np.ndarray) -> tuple[float | None, float | None]:
    """Mean entropy of the right and of the wrong predictions (None where there are none)."""
    values = entropy(probabilities)
    correct = probabilities.argmax(axis=1) == y_true
    right = float(values[correct].mean()) if correct.any() else None
    wrong = float(values[~correct].mean()) if (~correct).any() else None
    return right, wrong
