"""Metrics agree with scikit-learn; temperature scaling; ECE and reliability; the review threshold."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)

from mltrain.calibration import (
    expected_calibration_error,
    fit_temperature,
    nll,
    reliability_bins,
    review_threshold,
    softmax,
)
from mltrain.metrics import bootstrap_macro_f1_ci, classification_metrics, mean_entropies
from mltrain.report import build_report

CLASSES = ["Baroque", "Rococo", "Realism", "Cubism", "Ukiyo_e"]


def _predictions(seed: int = 3, count: int = 120):
    rng = np.random.RandomState(seed)
    y_true = rng.randint(0, 5, count)
    y_pred = np.where(rng.rand(count) < 0.6, y_true, rng.randint(0, 5, count))
    return y_true, y_pred


def test_classification_metrics_agree_with_scikit_learn():
    y_true, y_pred = _predictions()

    metrics = classification_metrics(y_true, y_pred, CLASSES)

    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=range(5))
    assert metrics["accuracy"] == accuracy_score(y_true, y_pred)
    assert metrics["macro_f1"] == f1_score(y_true, y_pred, average="macro")
    assert metrics["micro_f1"] == f1_score(y_true, y_pred, average="micro")
    assert metrics["macro_precision"] == precision_score(y_true, y_pred, average="macro")
    assert metrics["macro_recall"] == recall_score(y_true, y_pred, average="macro")
    assert [metrics["per_class"][code]["f1"] for code in CLASSES] == f1.tolist()
    assert [metrics["per_class"][code]["precision"] for code in CLASSES] == precision.tolist()
    assert [metrics["per_class"][code]["recall"] for code in CLASSES] == recall.tolist()
    assert [metrics["per_class"][code]["support"] for code in CLASSES] == support.tolist()
    assert metrics["confusion_matrix"] == confusion_matrix(y_true, y_pred).tolist()


def test_bootstrap_interval_is_the_percentile_interval_of_class_stratified_resamples():
    y_true, y_pred = _predictions()

    interval = bootstrap_macro_f1_ci(y_true, y_pred, n_resamples=200, random_state=7)

    rng = np.random.RandomState(7)
    scores = []
    for _ in range(200):
        picks = []
        for label in range(5):  # each class resampled to its own support
            group = np.flatnonzero(y_true == label)
            picks.extend(group[rng.randint(0, len(group), len(group))])
        picks = np.array(picks)
        assert np.bincount(y_true[picks], minlength=5).tolist() == np.bincount(y_true, minlength=5).tolist()
        scores.append(f1_score(y_true[picks], y_pred[picks], average="macro", zero_division=0))
    assert interval == np.percentile(scores, [2.5, 97.5]).tolist()
    assert interval[0] < f1_score(y_true, y_pred, average="macro") < interval[1]


def _overconfident_logits(seed: int = 0, count: int = 400, true_temperature: float = 2.5):
    """Logits whose labels are drawn from softmax(logits / 2.5): a model 2.5× too confident."""
    rng = np.random.RandomState(seed)
    logits = rng.normal(0, 4, size=(count, 5))
    probabilities = softmax(logits, true_temperature)
    labels = np.array([rng.choice(5, p=row) for row in probabilities])
    return logits, labels


def test_temperature_scaling_lowers_validation_nll_and_finds_the_optimum():
    logits, labels = _overconfident_logits()

    temperature = fit_temperature(logits, labels)

    assert round(temperature, 2) == 2.44
    assert nll(logits, labels, temperature) < nll(logits, labels, 1.0)
    assert round(nll(logits, labels, 1.0), 4) == 1.3814
    assert round(nll(logits, labels, temperature), 4) == 1.0356
    # A minimum: nearby temperatures are worse.
    assert nll(logits, labels, temperature) < nll(logits, labels, temperature * 0.97)
    assert nll(logits, labels, temperature) < nll(logits, labels, temperature * 1.03)


def test_reliability_bins_and_ece_by_hand():
    probabilities = np.array([[0.95, 0.05], [0.95, 0.05], [0.65, 0.35], [0.4, 0.6]])
    labels = np.array([0, 1, 0, 0])

    bins = reliability_bins(probabilities, labels, n_bins=10)

    non_empty = [(b["lower"], b["upper"], b["count"], b["confidence"], b["accuracy"]) for b in bins if b["count"]]
    assert [(round(lo, 1), round(hi, 1), n, round(c, 2), a) for lo, hi, n, c, a in non_empty] == [
        (0.5, 0.6, 1, 0.6, 0.0),
        (0.6, 0.7, 1, 0.65, 1.0),
        (0.9, 1.0, 2, 0.95, 0.5),
    ]
    # ECE = 1/4·|0 − 0.6| + 1/4·|1 − 0.65| + 2/4·|0.5 − 0.95|
    assert round(expected_calibration_error(probabilities, labels, n_bins=10), 6) == round(
        0.25 * 0.6 + 0.25 * 0.35 + 0.5 * 0.45, 6
    )


def test_review_threshold_is_the_lowest_confidence_reaching_the_target_precision():
    confidence = np.array([0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90, 0.95, 0.97, 0.99])
    correct = np.array([0, 0, 1, 0, 1, 1, 1, 1, 1, 1], dtype=bool)

    result = review_threshold(confidence, correct, target_precision=0.9)

    # ≥ 0.60: 6 of 7 right (0.857); ≥ 0.70: 6 of 6 right → the threshold is 0.70, auto-accepting 6 of 10.
    assert result == {
        "review_threshold": 0.70,
        "auto_accept_share": 0.6,
        "auto_accept_precision": 1.0,
        "reached": True,
    }
    # At 80 %: ≥ 0.50 holds 7 of 8 right (0.875) while ≥ 0.40 holds 7 of 9 (0.778).
    assert review_threshold(confidence, correct, target_precision=0.8)["review_threshold"] == 0.5


def test_review_threshold_that_cannot_be_reached_accepts_nothing():
    result = review_threshold(np.array([0.5, 0.9]), np.array([False, False]), target_precision=0.9)

    assert result == {
        "review_threshold": 1.0,
        "auto_accept_share": 0.0,
        "auto_accept_precision": None,
        "reached": False,
    }


def test_report_fits_temperature_on_validation_and_applies_it_to_test():
    val_logits, val_labels = _overconfident_logits(seed=1)
    test_logits, test_labels = _overconfident_logits(seed=2, count=200)

    report = build_report(
        test_logits=test_logits,
        test_labels=test_labels,
        classes=CLASSES,
        val_logits=val_logits,
        val_labels=val_labels,
        bootstrap_samples=100,
    )

    assert report["temperature"] == fit_temperature(val_logits, val_labels)
    assert report["val_nll_after"] < report["val_nll_before"]
    assert report["ece"] < report["ece_before"]
    calibrated = softmax(test_logits, report["temperature"])
    assert report["macro_f1"] == f1_score(test_labels, calibrated.argmax(axis=1), average="macro")
    assert report["ece"] == expected_calibration_error(calibrated, test_labels)
    right, wrong = mean_entropies(calibrated, test_labels)
    assert (report["mean_entropy_correct"], report["mean_entropy_wrong"]) == (right, wrong)
    assert right < wrong
    assert set(report) >= {
        "accuracy", "macro_f1", "macro_f1_ci95", "micro_f1", "macro_precision", "macro_recall", "per_class",
        "confusion_matrix", "ece", "ece_before", "reliability", "temperature", "review_threshold",
        "auto_accept_share", "mean_entropy_correct", "mean_entropy_wrong", "val_macro_f1", "val_mean_confidence",
    }  # fmt: skip
    assert report["val_mean_confidence"] == float(softmax(val_logits, report["temperature"]).max(axis=1).mean())
