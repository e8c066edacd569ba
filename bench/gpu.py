"""GPU benchmark of the inference engine: run it whenever a CUDA machine is at hand (finishes within 5 minutes).

    .venv/bin/python bench/gpu.py [--sample-dir ../shared/wikiart/dev_sample] [--images 512] [--json FILE]

For ``efficientnet_lite0`` and ``vit_b16_in21k`` (random weights: timing only) at batch 1, 32 and 256 with bf16
autocast, it measures the engine (classifier/engine/core.py, the code the workers run) two ways:
  - from decoded tensors: uint8 images already in memory → normalise on the GPU → forward (the model's ceiling);
  - from JPEG files: the whole engine path (reduced-scale decode in a thread pool overlapped with compute).
JPEGs are WikiArt-sized (about 1650×1650 px, quality 90): made from the dev sample when it is there, otherwise
synthesised, so that the script needs nothing but the repository and its Python packages.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

ARCHITECTURES = ("efficientnet_lite0", "vit_b16_in21k")
BATCH_SIZES = (1, 32, 256)


def jpegs(sample_dir: Path | None, count: int, folder: Path, unique: int = 64) -> list[Path]:
    """``count`` paths over ``unique`` distinct files (making 500 big JPEGs would eat the time budget)."""
    sources = sorted(sample_dir.rglob("*.jpg"))[:unique] if sample_dir and sample_dir.is_dir() else []
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:1650, 0:1650].astype(np.float32) / 1650
    base = np.stack([x * 255, y * 255, (x + y) * 127], axis=-1)
    made = []
    for index in range(min(unique, count)):
        if sources:
            with Image.open(sources[index % len(sources)]) as source:
                image = source.convert("RGB")
            scale = 1650 / (image.width * image.height) ** 0.5
            image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
        else:
            # Smooth colour fields plus light texture: about the size of a real painting's JPEG.
            texture = rng.normal(0, 4, size=(1650, 1650, 3)).astype(np.float32)
            image = Image.fromarray(np.clip(np.roll(base, index * 25, axis=1) + texture, 0, 255).astype(np.uint8))
        path = folder / f"{index:04d}.jpg"
        image.save(path, format="JPEG", quality=90)
        made.append(path)
    return [made[index % len(made)] for index in range(count)]


def time_tensors(engine, batch_size: int, seconds: float = 3.0) -> float:
    channels, height, width = engine.preprocessing["input_size"]
    items = [torch.randint(0, 256, (height, width, channels), dtype=torch.uint8) for _ in range(batch_size)]
    stacked = torch.stack(items)
    batch_items = list(stacked.pin_memory() if engine.device.type == "cuda" else stacked)
    engine._forward(engine._to_batch(batch_items))
    _synchronize(engine)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        engine._forward(engine._to_batch(batch_items))
        done += batch_size
    _synchronize(engine)
    return done / (time.perf_counter() - started)


def _synchronize(engine) -> None:
    if engine.device.type == "cuda":
        torch.cuda.synchronize()


def time_files(engine, paths: list[Path]) -> tuple[float, float]:
    engine.predict(paths[: min(len(paths), engine.batch_size)])
    started = time.perf_counter()
    results = engine.predict(paths)
    seconds = time.perf_counter() - started
    latencies = sorted(result.latency_ms for result in results)
    return len(paths) / seconds, latencies[int(0.95 * (len(latencies) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample-dir", type=Path, default=REPO_ROOT.parent / "shared" / "wikiart" / "dev_sample")
    parser.add_argument("--images", type=int, default=512, help="JPEG files per measurement.")
    parser.add_argument("--decode-workers", type=int, default=os.cpu_count())
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--models", nargs="+", default=list(ARCHITECTURES))
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=list(BATCH_SIZES))
    parser.add_argument("--device", default="cuda", help="cpu only to smoke-test this script.")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench/gpu.py needs a CUDA device (bench/pipeline.py measures the CPU).")

    from classifier.engine.core import InferenceEngine
    from curation.styles import STYLE_CODES
    from mltrain.architectures import create_model, default_preprocessing

    device = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu"
    print(f"{device}, torch {torch.__version__}, {os.cpu_count()} CPU cores, {args.decode_workers} decode threads")
    rows = []
    with tempfile.TemporaryDirectory(prefix="atelier-gpu-bench-") as folder:
        made = time.perf_counter()
        paths = jpegs(args.sample_dir, args.images, Path(folder))
        mean_kb = sum(path.stat().st_size for path in set(paths)) / len(set(paths)) / 1024
        print(f"{len(paths)} WikiArt-sized JPEGs, mean {mean_kb:.0f} KB, made in {time.perf_counter() - made:.1f} s\n")
        print(f"{'model':<20}{'batch':>6}{'tensors img/s':>15}{'JPEG img/s':>12}{'JPEG p95 ms':>13}")
        for architecture in args.models:
            model = create_model(architecture, num_classes=len(STYLE_CODES), pretrained=False)
            for batch_size in args.batch_sizes:
                engine = InferenceEngine(
                    model=model,
                    classes=STYLE_CODES,
                    preprocessing=default_preprocessing(architecture),
                    device=args.device,
                    batch_size=batch_size,
                    decode_workers=args.decode_workers,
                    name=architecture,
                )
                tensor_rate = time_tensors(engine, batch_size)
                # Batch 1 through files is a per-image loop; fewer files keep the whole script within 5 minutes.
                files = paths if batch_size > 1 else paths[:128]
                file_rate, file_p95 = time_files(engine, files)
                engine.close()
                row = {
                    "model": architecture,
                    "batch_size": batch_size,
                    "autocast": str(engine.autocast_dtype).replace("torch.", ""),
                    "tensors_images_per_s": round(tensor_rate, 1),
                    "jpeg_images_per_s": round(file_rate, 1),
                    "jpeg_latency_p95_ms": round(file_p95, 1),
                }
                rows.append(row)
                print(
                    f"{architecture:<20}{batch_size:>6}{tensor_rate:>15.0f}{file_rate:>12.0f}{file_p95:>13.1f}",
                    flush=True,
                )
            del model
            if args.device == "cuda":
                torch.cuda.empty_cache()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"device": device, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
