"""The inference engine proper: decode → evaluation transform → batched forward → calibrated top-3.

No Django here (the runtime module binds it to ModelVersion rows), so the benchmarks and the GPU script drive
exactly the code the workers run.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from mltrain.imaging import open_rgb

logger = logging.getLogger(__name__)

# Anything the engine can read an image from: a path, the bytes, or a callable that opens a binary file
# (so that storage backends are opened inside the decode thread, not up front).
ImageSource = str | Path | bytes | Callable[[], IO[bytes]]

# What Pillow raises for damaged, truncated, missing or refused files: a property of the file, never transient.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


@dataclass(frozen=True)
class ImagePrediction:
    """One image's calibrated prediction. Probabilities are temperature-scaled softmax outputs."""

    top3: list[tuple[str, float]]
    probabilities: list[float]
    predicted_class: str
    confidence: float
    entropy: float
    latency_ms: float
    batch_size: int


@dataclass(frozen=True)
class ImageFailure:
    """The image could not be decoded; ``reason`` is written for curators."""

    reason: str


@dataclass
class _Prepared:
    started: float
    tensor: torch.Tensor | None = None
    error: str = ""


def _split_transform(
    transform: Callable[[Image.Image], torch.Tensor],
) -> tuple[Callable[[Image.Image], Image.Image] | None, tuple[torch.Tensor, torch.Tensor] | None]:
    """Split mltrain's evaluation transform (Compose[..., ToTensor, Normalize]) into its PIL geometry and its
    normalisation, reusing the transform's own steps so that the result stays identical. Any other transform is
    applied whole, per image."""
    from torchvision import transforms as T

    steps = getattr(transform, "transforms", None)
    if not steps or len(steps) < 2 or not isinstance(steps[-2], T.ToTensor) or not isinstance(steps[-1], T.Normalize):
        return None, None
    normalize = steps[-1]
    mean = torch.tensor(normalize.mean, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(normalize.std, dtype=torch.float32).view(1, -1, 1, 1)
    return T.Compose(steps[:-2]), (mean, std)


def pick_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


class InferenceEngine:
    """A loaded model plus its evaluation preprocessing; thread-safe ``predict``.

    Decoding runs in a thread pool (Pillow releases the GIL) up to two batches ahead of the forward pass, so
    that decode and compute overlap. JPEGs are decoded at the smallest DCT scale that still covers the
    transform's resize. Forward passes are batched, channels-last, under ``inference_mode``; on CUDA with
    bf16 (fp16 where bf16 is missing) autocast, on CPU with bf16 autocast only where it measured faster.
    Out of device memory, the batch is halved down to 1, then the model moves to the CPU: the work is never
    lost.
    """

    def __init__(
        self,
        *,
        model: nn.Module,
        classes: Sequence[str],
        preprocessing: dict[str, Any],
        temperature: float = 1.0,
        device: str | torch.device = "auto",
        batch_size: int = 32,
        decode_workers: int | None = None,
        cpu_bf16: bool | None = None,
        transform: Callable[[Image.Image], torch.Tensor] | None = None,
        decode_min_side: int | None = None,
        torch_threads: int | None = None,
        cpu_jit: bool = True,
        name: str = "",
    ) -> None:
        from mltrain import transforms as mltrain_transforms

        if temperature <= 0:
            raise ValueError("temperature must be positive")
        self.name = name
        self.classes = list(classes)
        self.preprocessing = dict(preprocessing)
        self.temperature = float(temperature)
        self.batch_size = self.configured_batch_size = max(1, int(batch_size))
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self.transform = transform or mltrain_transforms.eval_transform(self.preprocessing)
        self._geometry, self._normalization = _split_transform(self.transform)
        self.decode_min_side = (
            decode_min_side if decode_min_side is not None else mltrain_transforms.decode_min_side(self.preprocessing)
        )
        cores = os.cpu_count() or 1
        workers = decode_workers or max(2, cores)
        # On the CPU the forward pass and the decode threads share the cores; torch's spin-waiting intra-op
        # threads lose badly when oversubscribed (measured on 2 cores: 110 img/s with 1 torch thread and 2 decode
        # threads against 19 img/s with 2 and 2 under load), so the forward pass gets half the cores.
        self.torch_threads = torch_threads or max(1, cores // 2)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="atelier-decode")
        self._forward_lock = threading.Lock()
        self.model = model.eval()
        self._place_model(self.device)
        self._traced: torch.jit.ScriptModule | None = None
        self.autocast_dtype = self._choose_autocast(cpu_bf16)
        self._traced = self._freeze() if cpu_jit else None
        self.warm_up()

    # --- setup -------------------------------------------------------------------------------------------
    def _place_model(self, device: torch.device) -> None:
        self.model = self.model.to(device=device, memory_format=torch.channels_last)
        self.device = device
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True

    @contextlib.contextmanager
    def _threads(self):
        """The engine's intra-op thread count for the duration of a CPU forward pass (restored after)."""
        if self.device.type != "cpu" or torch.get_num_threads() == self.torch_threads:
            yield
            return
        previous = torch.get_num_threads()
        torch.set_num_threads(self.torch_threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)

    def _dummy_batch(self, size: int) -> torch.Tensor:
        channels, height, width = self.preprocessing["input_size"]
        return torch.zeros(size, channels, height, width)

    def _choose_autocast(self, cpu_bf16: bool | None) -> torch.dtype | None:
        if self.device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if cpu_bf16 is not None:
            return torch.bfloat16 if cpu_bf16 else None
        # bf16 on CPU is about twice as fast where the CPU has bf16 instructions and much slower where it has
        # not: measure instead of guessing.
        batch = self._dummy_batch(min(self.batch_size, 8))
        timings = {}
        with self._threads():
            for dtype in (None, torch.bfloat16):
                self._run_model(batch, dtype)
                started = time.perf_counter()
                self._run_model(batch, dtype)
                timings[dtype] = time.perf_counter() - started
        chosen = torch.bfloat16 if timings[torch.bfloat16] < 0.9 * timings[None] else None
        logger.info(
            "engine %s: CPU fp32 %.1f ms, bf16 %.1f ms per batch of %d → %s",
            self.name,
            timings[None] * 1000,
            timings[torch.bfloat16] * 1000,
            len(batch),
            "bf16 autocast" if chosen else "fp32",
        )
        return chosen

    def _freeze(self) -> torch.jit.ScriptModule | None:
        """On the CPU, a traced and frozen graph (batch norm folded into the convolutions, oneDNN kernels) runs
        the forward pass 1.5-1.8x faster than eager mode (measured: Lite0 bf16, one thread, 156 against 85 img/s;
        fp32 65 against 42, outputs equal within 3e-6). Models that cannot be traced keep running eagerly."""
        if self.device.type != "cpu":
            return None
        example = self._dummy_batch(min(self.batch_size, 8)).contiguous(memory_format=torch.channels_last)
        try:
            with (
                self._threads(),
                torch.inference_mode(),
                torch.autocast("cpu", dtype=self.autocast_dtype or torch.float32, enabled=bool(self.autocast_dtype)),
                warnings.catch_warnings(),
            ):
                warnings.simplefilter("ignore")
                traced = torch.jit.freeze(torch.jit.trace(self.model, example))
                traced(example)
        # Tracing fails in many model-specific ways (data-dependent control flow, unsupported ops, a model that
        # refuses the example batch); every one of them means "run eagerly", which is always correct.
        except Exception as exc:
            logger.info("engine %s: running eagerly (could not trace: %s)", self.name, exc)
            return None
        return traced

    def warm_up(self) -> None:
        """Run the first (slow: allocation, kernel selection) forward passes before real work arrives."""
        for size in sorted({1, min(self.batch_size, 8)}):
            self._forward(self._dummy_batch(size))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # --- compute -----------------------------------------------------------------------------------------
    def _run_model(self, batch: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
        inputs = batch.to(self.device, non_blocking=True)
        if inputs.dtype == torch.uint8:
            # Exactly ToTensor (÷255) then Normalize, once per batch on the model's device. NHWC → NCHW is a view
            # whose memory is already channels-last.
            mean, std = self._normalization
            inputs = inputs.permute(0, 3, 1, 2).float().div_(255)
            inputs = inputs.sub_(mean.to(self.device)).div_(std.to(self.device))
        inputs = inputs.contiguous(memory_format=torch.channels_last)
        with (
            torch.inference_mode(),
            torch.autocast(device_type=self.device.type, dtype=dtype or torch.float32, enabled=dtype is not None),
        ):
            model = self._traced if self._traced is not None and self.device.type == "cpu" else self.model
            logits = model(inputs)
        return torch.softmax(logits.float() / self.temperature, dim=1).cpu()

    def _forward(self, batch: torch.Tensor) -> torch.Tensor:
        """Calibrated probabilities for a batch; on out-of-memory halve the chunk, then fall back to the CPU."""
        with self._forward_lock, self._threads():
            while True:
                chunk = min(self.batch_size, len(batch))
                try:
                    parts = [batch[i : i + chunk] for i in range(0, len(batch), chunk)]
                    return torch.cat([self._run_model(part, self.autocast_dtype) for part in parts])
                except torch.OutOfMemoryError:
                    if self.device.type == "cuda":
                        torch.cuda.empty_cache()
                    if chunk > 1:
                        self.batch_size = chunk // 2
                        logger.warning("engine %s: out of memory at batch %d, halving", self.name, chunk)
                    elif self.device.type != "cpu":
                        logger.warning("engine %s: out of memory at batch 1, moving to the CPU", self.name)
                        self._place_model(torch.device("cpu"))
                        self.autocast_dtype = self._choose_autocast(None)
                        self.batch_size = self.configured_batch_size
                    else:
                        raise

    def predict_images(self, images: Sequence[Image.Image]) -> list[ImagePrediction]:
        """Predict already decoded RGB images (used where the caller validated the upload itself)."""
        started = time.perf_counter()
        results: list[ImagePrediction] = []
        for offset in range(0, len(images), self.batch_size):
            chunk = images[offset : offset + self.batch_size]
            probabilities = self._forward(self._to_batch([self._pixels(image) for image in chunk]))
            finished = time.perf_counter()
            results.extend(self._describe(row, (finished - started) * 1000, len(chunk)) for row in probabilities)
        return results

    def predict(self, sources: Sequence[ImageSource]) -> list[ImagePrediction | ImageFailure]:
        """Decode and predict every source, in order; an unreadable one gives an ``ImageFailure``."""
        results: list[ImagePrediction | ImageFailure | None] = [None] * len(sources)
        batches = [range(i, min(i + self.batch_size, len(sources))) for i in range(0, len(sources), self.batch_size)]
        in_flight: deque[tuple[range, list[Future[_Prepared]]]] = deque()
        upcoming = iter(batches)

        def submit_next() -> None:
            indices = next(upcoming, None)
            if indices is not None:
                in_flight.append((indices, [self._pool.submit(self._prepare, sources[i]) for i in indices]))

        # Two batches decoding ahead of the forward pass: enough to hide decode behind compute, bounded memory.
        submit_next()
        submit_next()
        while in_flight:
            indices, futures = in_flight.popleft()
            submit_next()
            prepared = [future.result() for future in futures]
            decoded = [(index, item) for index, item in zip(indices, prepared, strict=True) if item.tensor is not None]
            for index, item in zip(indices, prepared, strict=True):
                if item.tensor is None:
                    results[index] = ImageFailure(reason=item.error)
            if not decoded:
                continue
            probabilities = self._forward(self._to_batch([item.tensor for _, item in decoded]))
            finished = time.perf_counter()
            for (index, item), row in zip(decoded, probabilities, strict=True):
                results[index] = self._describe(row, (finished - item.started) * 1000, len(decoded))
        return results  # type: ignore[return-value]

    def _prepare(self, source: ImageSource) -> _Prepared:
        started = time.perf_counter()
        try:
            image = self._open(source)
            return _Prepared(started=started, tensor=self._pixels(image))
        except DECODE_ERRORS as exc:
            return _Prepared(started=started, error=f"The image could not be decoded: {exc}")

    def _pixels(self, image: Image.Image) -> torch.Tensor:
        """Decode-thread half of the transform: the geometry (resize, crop) on PIL, kept as uint8 HWC.

        Converting to float and normalising per image costs more than the decode itself on a busy CPU (torch's
        thread pool is shared with the forward pass); done once per batch instead, on the model's device.
        """
        if self._normalization is None:
            return self.transform(image)
        return torch.from_numpy(np.asarray(self._geometry(image), dtype=np.uint8).copy())

    def _to_batch(self, items: list[torch.Tensor]) -> torch.Tensor:
        """Stack prepared images (uint8 HWC, normalised later on the device, or float CHW from a custom transform)."""
        return torch.stack(items)

    def _open(self, source: ImageSource) -> Image.Image:
        if isinstance(source, (bytes, bytearray)):
            return open_rgb(io.BytesIO(source), min_side=self.decode_min_side)
        if callable(source):
            with source() as handle:
                return open_rgb(handle, min_side=self.decode_min_side)
        return open_rgb(str(source), min_side=self.decode_min_side)

    def _describe(self, probabilities: torch.Tensor, latency_ms: float, batch_size: int) -> ImagePrediction:
        values = probabilities.tolist()
        top = torch.topk(probabilities, k=min(3, len(values)))
        top3 = [(self.classes[i], float(p)) for p, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)]
        entropy = -sum(p * math.log(p) for p in values if p > 0)
        return ImagePrediction(
            top3=top3,
            probabilities=values,
            predicted_class=top3[0][0],
            confidence=min(1.0, max(0.0, top3[0][1])),
            entropy=max(0.0, entropy),
            latency_ms=latency_ms,
            batch_size=batch_size,
        )
