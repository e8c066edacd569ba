"""Confidence calibration: temperature scaling fitted on validation NLL, reliability bins, ECE, review threshold."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

RELIABILITY_BINS = 15
DEFAULT_REVIEW_PRECISION = 0.9


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of ``labels`` under the temperature-scaled softmax."""
    tensor = torch.as_tensor(logits, dtype=torch.float64) / temperature
    return float(torch.nn.functional.cross_entropy(tensor, torch.as_tensor(labels, dtype=torch.long)))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T > 0 minimising validation NLL of softmax(logits / T).

    NLL is convex in 1/T, so a bounded search over log T finds the optimum; a coarse grid first keeps L-BFGS
    away from the flat ends. Returns 1.0 when there is nothing to fit on.
    """
    if len(labels) == 0:
        return 1.0
    logits64 = torch.as_tensor(logits, dtype=torch.float64)
    targets = torch.as_tensor(labels, dtype=torch.long)
    grid = np.linspace(np.log(0.05), np.log(20.0), 61)
    losses = [float(torch.nn.functional.cross_entropy(logits64 / np.exp(value), targets)) for value in grid]
    log_t = torch.tensor(grid[int(np.argmin(losses))], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.5, max_iter=100, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits64 / log_t.exp(), targets)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(np.clip(np.exp(log_t.item()), 0.05, 20.0))


def reliability_bins(probabilities: np.ndarray, labels: np.ndarray, *, n_bins: int = RELIABILITY_BINS) -> list[dict]:
    """Equal-width confidence bins over (0, 1]: count, mean confidence and accuracy of the top-1 predictions."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = []
    for index in range(n_bins):
        lower, upper = edges[index], edges[index + 1]
        members = (confidence > lower) & (confidence <= upper) if index else (confidence <= upper)
        count = int(members.sum())
        bins.append(
            {
                "lower": float(lower),
                "upper": float(upper),
                "count": count,
                "confidence": float(confidence[members].mean()) if count else None,
                "accuracy": float(correct[members].mean()) if count else None,
            }
        )
    return bins


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, *, n_bins: int = RELIABILITY_BINS
) -> float:
    """ECE: the count-weighted mean |accuracy − confidence| over the reliability bins."""
    total = len(labels)
    if total == 0:
        return 0.0
    return float(
        sum(
            item["count"] / total * abs(item["accuracy"] - item["confidence"])
            for item in reliability_bins(probabilities, labels, n_bins=n_bins)
            if item["count"]
        )
    )


def review_threshold(
    confidence: np.ndarray, correct: np.ndarray, *, target_precision: float = DEFAULT_REVIEW_PRECISION
) -> dict[str, Any]:
    """The lowest confidence at which the predictions auto-accepted (confidence ≥ it) reach ``target_precision``.

    Candidates are the observed confidences. When no threshold reaches the target, the threshold is 1.0 and
    nothing is auto-accepted (``reached`` is False). Returns threshold, share auto-accepted and its precision.
    """
    total = len(confidence)
    for threshold in np.unique(confidence):  # ascending
        accepted = confidence >= threshold
        precision = float(correct[accepted].mean())
        if precision >= target_precision:
            return {
                "review_threshold": float(threshold),
                "auto_accept_share": float(accepted.sum() / total),
                "auto_accept_precision": precision,
                "reached": True,
            }
    return {"review_threshold": 1.0, "auto_accept_share": 0.0, "auto_accept_precision": None, "reached": False}
