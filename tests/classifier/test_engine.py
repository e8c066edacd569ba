"""The inference engine on real paintings: exact calibrated outputs, unreadable files, out-of-memory halving."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from classifier.engine.core import ImageFailure, ImagePrediction, InferenceEngine
from curation.styles import STYLE_CODES
from mltrain.checkpoint import model_from_checkpoint
from mltrain.imaging import open_rgb
from mltrain.transforms import decode_min_side, eval_transform
from tests.factories import sample_image


@pytest.fixture(scope="module")
def lite0(lite0_checkpoints):
    model, meta = model_from_checkpoint(lite0_checkpoints["a"])
    return model, meta["preprocessing"]


def _paths(count: int) -> list:
    return [sample_image(index)[0] for index in range(count)]


def _reference(model, preprocessing, path, temperature: float) -> list[float]:
    """The prototype-style computation: one image, fp32, the evaluation transform, softmax(logits / T)."""
    image = open_rgb(str(path), min_side=decode_min_side(preprocessing))
    with torch.inference_mode():
        logits = model.eval()(eval_transform(preprocessing)(image).unsqueeze(0))
    return torch.softmax(logits.float() / temperature, dim=1)[0].tolist()


def test_batched_predictions_equal_the_one_by_one_fp32_reference(lite0):
    model, preprocessing = lite0
    engine = InferenceEngine(
        model=model, classes=STYLE_CODES, preprocessing=preprocessing, temperature=2.0, batch_size=4, cpu_bf16=False
    )
    paths = _paths(5)
    results = engine.predict(paths)

    assert [type(result) for result in results] == [ImagePrediction] * 5
    assert [result.batch_size for result in results] == [4, 4, 4, 4, 1]
    for path, result in zip(paths, results, strict=True):
        expected = _reference(model, preprocessing, path, temperature=2.0)
        order = sorted(range(len(expected)), key=lambda i: -expected[i])[:3]
        assert [code for code, _ in result.top3] == [STYLE_CODES[i] for i in order]
        assert result.predicted_class == STYLE_CODES[order[0]]
        assert result.probabilities == pytest.approx(expected, abs=1e-5)
        assert result.confidence == pytest.approx(expected[order[0]], abs=1e-5)
        assert result.entropy == pytest.approx(-sum(p * math.log(p) for p in expected if p > 0), abs=1e-4)
        assert sum(result.probabilities) == pytest.approx(1.0, abs=1e-5)


def test_temperature_flattens_the_distribution(lite0):
    model, preprocessing = lite0
    paths = _paths(2)
    sharp = InferenceEngine(model=model, classes=STYLE_CODES, preprocessing=preprocessing, cpu_bf16=False)
    flat = InferenceEngine(
        model=model, classes=STYLE_CODES, preprocessing=preprocessing, temperature=3.0, cpu_bf16=False
    )
    for cold, warm, path in zip(sharp.predict(paths), flat.predict(paths), paths, strict=True):
        assert cold.predicted_class == warm.predicted_class
        assert warm.confidence == pytest.approx(max(_reference(model, preprocessing, path, 3.0)), abs=1e-5)
        assert warm.confidence < cold.confidence
        assert warm.entropy > cold.entropy


def test_unreadable_images_fail_alone(lite0):
    model, preprocessing = lite0
    engine = InferenceEngine(model=model, classes=STYLE_CODES, preprocessing=preprocessing, cpu_bf16=False)
    good = _paths(2)
    truncated = good[0].read_bytes()[:2000]
    results = engine.predict([good[0], b"<html>not an image</html>", truncated, good[1], good[0].parent / "nope.jpg"])

    assert [type(result) for result in results] == [
        ImagePrediction,
        ImageFailure,
        ImageFailure,
        ImagePrediction,
        ImageFailure,
    ]
    assert results[1].reason.startswith("The image could not be decoded: cannot identify image file")
    assert results[2].reason.startswith("The image could not be decoded: image file is truncated")
    assert results[4].reason.startswith("The image could not be decoded: [Errno 2] No such file or directory")
    alone = engine.predict([good[1]])[0]
    assert results[3].probabilities == pytest.approx(alone.probabilities, abs=1e-5)


class _MemoryLimited(nn.Module):
    """Raises CUDA's out-of-memory error for batches above ``limit``, as a too-small GPU would."""

    def __init__(self, inner: nn.Module, limit: int) -> None:
        super().__init__()
        self.inner = inner
        self.limit = limit
        self.batch_sizes: list[int] = []

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.batch_sizes.append(len(images))
        if len(images) > self.limit:
            raise torch.OutOfMemoryError(f"CUDA out of memory: batch {len(images)}")
        return self.inner(images)


def test_out_of_memory_halves_the_batch_and_loses_nothing(lite0):
    model, preprocessing = lite0
    limited = _MemoryLimited(model, limit=2)
    engine = InferenceEngine(
        model=limited, classes=STYLE_CODES, preprocessing=preprocessing, batch_size=8, cpu_bf16=False
    )
    # Warm-up with a batch of 8 already ran into the limit: 8 → 4 → 2.
    assert engine.batch_size == 2
    limited.batch_sizes.clear()
    paths = _paths(5)
    results = engine.predict(paths)

    assert limited.batch_sizes == [2, 2, 1]
    assert engine.batch_size == 2
    reference = InferenceEngine(model=model, classes=STYLE_CODES, preprocessing=preprocessing, cpu_bf16=False)
    for result, expected in zip(results, reference.predict(paths), strict=True):
        assert result.probabilities == pytest.approx(expected.probabilities, abs=1e-5)


def test_out_of_memory_at_batch_one_on_the_cpu_is_raised(lite0):
    model, preprocessing = lite0
    with pytest.raises(torch.OutOfMemoryError):
        InferenceEngine(
            model=_MemoryLimited(model, limit=0), classes=STYLE_CODES, preprocessing=preprocessing, cpu_bf16=False
        )
