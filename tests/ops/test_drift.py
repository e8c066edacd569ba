"""The drift signal: recent mean calibrated confidence of the active version vs its evaluation figure."""

from __future__ import annotations

import pytest

from classifier.drift import drift_signal, reference_mean_confidence
from classifier.services.registry import model_version_activate
from tests.factories import ModelVersionFactory, PredictionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_no_active_version():
    assert drift_signal(window=10) == {
        "model_version": None,
        "window": 10,
        "predictions": 0,
        "recent_mean_confidence": None,
        "validation_mean_confidence": None,
        "delta": None,
        "tolerance": 0.1,
        "status": "no_model",
    }


def test_recent_predictions_below_the_reference_by_more_than_the_tolerance_are_drift():
    version = model_version_activate(version=ModelVersionFactory(name="drift-v1", metrics={"val_mean_confidence": 0.8}))
    older = [PredictionFactory(model_version=version, confidence=1.0) for _ in range(2)]
    for confidence in (0.5, 0.6, 0.7, 0.6):
        PredictionFactory(model_version=version, confidence=confidence)
    # Another version's predictions never count.
    PredictionFactory(model_version=ModelVersionFactory(name="drift-other"), confidence=0.01)

    signal = drift_signal(window=4)
    assert signal["model_version"] == "drift-v1"
    assert signal["predictions"] == 4
    assert signal["recent_mean_confidence"] == pytest.approx(0.6)
    assert signal["validation_mean_confidence"] == 0.8
    assert signal["delta"] == pytest.approx(-0.2)
    assert signal["status"] == "drift"

    wide = drift_signal(window=6)
    assert wide["predictions"] == 6
    assert wide["recent_mean_confidence"] == pytest.approx((1.0 * len(older) + 2.4) / 6)
    assert wide["status"] == "ok"


def test_too_few_predictions_is_insufficient_data():
    version = model_version_activate(
        version=ModelVersionFactory(name="drift-few", metrics={"val_mean_confidence": 0.8})
    )
    PredictionFactory(model_version=version, confidence=0.1)
    signal = drift_signal(window=10)
    assert signal["predictions"] == 1
    assert signal["status"] == "insufficient_data"
    assert signal["delta"] is None


def test_reference_falls_back_to_the_calibrated_reliability_bins():
    metrics = {
        "reliability": {
            "after": [
                {"count": 3, "confidence": 0.5, "accuracy": 0.4},
                {"count": 0, "confidence": None, "accuracy": None},
                {"count": 1, "confidence": 0.9, "accuracy": 1.0},
            ]
        }
    }
    assert reference_mean_confidence(metrics) == pytest.approx((3 * 0.5 + 0.9) / 4)
    assert reference_mean_confidence({}) is None


def test_the_overview_shows_the_drift_signal(client, settings):
    settings.ATELIER = {**settings.ATELIER, "DRIFT_WINDOW": 4}
    version = model_version_activate(
        version=ModelVersionFactory(name="drift-page", metrics={"val_mean_confidence": 0.8})
    )
    for confidence in (0.4, 0.5, 0.6, 0.5):
        PredictionFactory(model_version=version, confidence=confidence)
    client.force_login(UserFactory(username="drift-curator", roles=["curator"]))
    html = client.get("/").content.decode()
    assert 'data-drift-status="drift"' in html
    assert "Mean confidence of the last 4 predictions: <strong>0.500</strong>" in html
    assert "vs 0.800 on held-out data" in html
    assert "possible drift" in html
