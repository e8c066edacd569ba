"""Pipeline benchmark: the prototype's serving path vs Atelier's engine, and end to end through the real stack.

    .venv/bin/python bench/pipeline.py --json var/bench/pipeline.json \
        --e2e-database-url postgres://postgres@127.0.0.1:5432/atelier_bench --broker-url redis://127.0.0.1:6379/3

Two image sets, same model (efficientnet_lite0, ImageNet weights + a fresh 27-class head), same machine, same run:
the dev sample as it is (many small images) and WikiArt-sized images made here (dev-sample paintings resized to
about 1650×1650 px, JPEG quality 90, cached under var/bench/). For each set:
  (a) the prototype's path, reimplemented faithfully: PIL full decode, torchvision Resize(256) + CenterCrop(224)
      + ToTensor + Normalize, batch 1, fp32, one image at a time;
  (b) Atelier's engine (classifier/engine/core.py): reduced-scale decode in a thread pool overlapped with
      batched channels-last forward passes, bf16 autocast where it is faster.
(c) End to end (with --e2e-database-url, a scratch PostgreSQL database whose name ends in ``_bench``: it is
    flushed): uploads through the ingest service, a real Redis broker and a real Celery worker process; idle single
    uploads (upload-to-prediction latency), a burst of single uploads and a bulk import (throughput).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from PIL import Image  # noqa: E402

ARCHITECTURE = "efficientnet_lite0"
DEFAULT_SAMPLE = REPO_ROOT.parent / "shared" / "wikiart" / "dev_sample"
WIKIART_SIDE = 1650


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(count: int, seconds: float, latencies_s: list[float]) -> dict:
    return {
        "images": count,
        "seconds": round(seconds, 3),
        "images_per_s": round(count / seconds, 2),
        "latency_p50_s": round(percentile(latencies_s, 0.50), 4),
        "latency_p95_s": round(percentile(latencies_s, 0.95), 4),
        "latency_p99_s": round(percentile(latencies_s, 0.99), 4),
    }


# --- image sets --------------------------------------------------------------------------------------------------
def dev_sample(sample_dir: Path, limit: int | None) -> list[Path]:
    with open(sample_dir / "labels.csv", newline="") as handle:
        paths = [sample_dir / row["file"] for row in csv.DictReader(handle)]
    return paths[:limit] if limit else paths


def wikiart_sized(sample_dir: Path, count: int, cache_dir: Path) -> list[Path]:
    """Dev-sample paintings, spread evenly over the styles, resized to about 1650×1650 px area, JPEG quality 90."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(sample_dir / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    step = max(1, len(rows) // count)
    made = []
    for row in rows[::step][:count]:
        target = cache_dir / (Path(row["file"]).stem[:80] + ".jpg")
        if not target.exists():
            with Image.open(sample_dir / row["file"]) as source:
                image = source.convert("RGB")
            scale = WIKIART_SIDE / (image.width * image.height) ** 0.5
            image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
            image.save(target, format="JPEG", quality=90)
        made.append(target)
    return made


# --- (a) the prototype's path --------------------------------------------------------------------------------------
def run_prototype(model: torch.nn.Module, paths: list[Path]) -> dict:
    from torchvision import transforms

    transform = transforms.Compose(
        [
            transforms.Resize(256),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ]
    )
    model = model.to(memory_format=torch.contiguous_format).eval()

    def predict(path: Path) -> list[float]:
        image = Image.open(path).convert("RGB")
        with torch.no_grad():
            probabilities = torch.softmax(model(transform(image).unsqueeze(0)), dim=1)
        return probabilities[0].tolist()

    for path in paths[:3]:
        predict(path)
    latencies = []
    started = time.perf_counter()
    for path in paths:
        began = time.perf_counter()
        predict(path)
        latencies.append(time.perf_counter() - began)
    return summary(len(paths), time.perf_counter() - started, latencies)


# --- (b) Atelier's engine ------------------------------------------------------------------------------------------
def make_engine(model: torch.nn.Module, batch_size: int, device: str = "auto"):
    from classifier.engine.core import InferenceEngine
    from curation.styles import STYLE_CODES
    from mltrain.architectures import default_preprocessing

    return InferenceEngine(
        model=model,
        classes=STYLE_CODES,
        preprocessing=default_preprocessing(ARCHITECTURE),
        batch_size=batch_size,
        device=device,
        name=ARCHITECTURE,
    )


def run_engine(engine, paths: list[Path]) -> dict:
    engine.predict(paths[: engine.batch_size])
    started = time.perf_counter()
    results = engine.predict(paths)
    seconds = time.perf_counter() - started
    failures = [result for result in results if not hasattr(result, "latency_ms")]
    if failures:
        raise SystemExit(f"engine failed on {len(failures)} images: {failures[:3]}")
    report = summary(len(paths), seconds, [result.latency_ms / 1000 for result in results])
    report.update(
        batch_size=engine.batch_size,
        autocast=str(engine.autocast_dtype).replace("torch.", "") if engine.autocast_dtype else "fp32",
        decode_min_side=engine.decode_min_side,
        device=str(engine.device),
    )
    return report


# --- (c) end to end ------------------------------------------------------------------------------------------------
def run_end_to_end(args, paths: list[Path], checkpoint_dir: Path, engine) -> dict:
    from urllib.parse import urlparse

    database_name = urlparse(args.e2e_database_url).path.lstrip("/")
    if not database_name.endswith("_bench"):
        raise SystemExit("--e2e-database-url must name a scratch database ending in _bench: it is flushed")
    media_root = Path(tempfile.mkdtemp(prefix="atelier-bench-media-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": args.e2e_database_url,
        "CELERY_BROKER_URL": args.broker_url,
        "MEDIA_ROOT": str(media_root),
        "ATELIER_REVIEW_THRESHOLD": "0.5",
    }
    os.environ.update({key: env[key] for key in ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "DATABASE_URL")})
    os.environ.update({key: env[key] for key in ("CELERY_BROKER_URL", "MEDIA_ROOT", "ATELIER_REVIEW_THRESHOLD")})
    _recreate_database(args.e2e_database_url)

    import django

    django.setup()
    import redis
    from django.core.management import call_command

    from classifier.models import Prediction
    from classifier.services.dispatch import classification_request
    from classifier.services.registry import model_version_activate, model_version_register
    from curation.models import Artwork
    from curation.services.ingest import IngestError, artwork_ingest
    from curation.styles import STYLE_CODES
    from mltrain.architectures import create_model, default_preprocessing
    from mltrain.checkpoint import save_checkpoint

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(args.broker_url).flushdb()

    checkpoint = checkpoint_dir / "bench-lite0.pt"
    torch.manual_seed(0)
    save_checkpoint(
        checkpoint,
        architecture=ARCHITECTURE,
        state_dict=create_model(ARCHITECTURE, num_classes=len(STYLE_CODES), pretrained=True).state_dict(),
        classes=list(STYLE_CODES),
        preprocessing=default_preprocessing(ARCHITECTURE),
    )
    version = model_version_register(
        name="bench-lite0",
        architecture=ARCHITECTURE,
        checkpoint_path=checkpoint,
        classes=list(STYLE_CODES),
        preprocessing=default_preprocessing(ARCHITECTURE),
    )
    model_version_activate(version=version)

    log_path = media_root / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "inference,default", "-c", "1",
         "--prefetch-multiplier", "64", "--without-gossip", "--without-mingle", "-l", "warning"],
        cwd=REPO_ROOT, env=env, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )  # fmt: skip

    def wait_for(count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while Prediction.objects.count() < count:
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit(f"end to end: gave up waiting; worker log:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.005)

    def ingest(path: Path, request_classification: bool):
        try:
            with open(path, "rb") as handle:
                return artwork_ingest(
                    file=handle, filename=path.name, request_classification=request_classification
                ).artwork
        except IngestError:
            return None

    try:
        # Warm the worker (process start, model load, first forward) before anything is timed.
        warm = ingest(paths[0], True)
        wait_for(1, 300)
        done = 1

        # Idle single uploads: one at a time, the next only after the previous prediction exists.
        latencies = []
        for path in paths[1 : 1 + args.e2e_single]:
            started = time.time()
            artwork = ingest(path, True)
            if artwork is None:
                continue
            done += 1
            wait_for(done, 60)
            created = Prediction.objects.get(artwork=artwork).created_at.timestamp()
            latencies.append(created - started)
        single = {
            "uploads": len(latencies),
            "latency_p50_s": round(percentile(latencies, 0.50), 4),
            "latency_p95_s": round(percentile(latencies, 0.95), 4),
            "latency_p99_s": round(percentile(latencies, 0.99), 4),
        }

        # A burst of single uploads (no waiting): celery-batches groups what arrives while the worker is busy.
        burst_paths = paths[1 + args.e2e_single : 1 + args.e2e_single + args.e2e_burst]
        started = time.time()
        burst = [artwork for artwork in (ingest(path, True) for path in burst_paths) if artwork is not None]
        ingest_done = time.time()
        done += len(burst)
        wait_for(done, 600)
        burst_predictions = Prediction.objects.filter(artwork__in=burst)
        last = max(p.created_at.timestamp() for p in burst_predictions)
        burst_latencies = [
            p.created_at.timestamp() - started for p in burst_predictions
        ]  # upper bound per upload: from the burst's start
        batch_sizes = [p.batch_size for p in burst_predictions]
        burst_report = {
            "uploads": len(burst),
            "seconds": round(last - started, 3),
            "uploads_per_s": round(len(burst) / (last - started), 2),
            "ingest_seconds": round(ingest_done - started, 3),
            "mean_batch_size": round(statistics.mean(batch_sizes), 2),
            "max_batch_size": max(batch_sizes),
            "latency_from_burst_start_p95_s": round(percentile(burst_latencies, 0.95), 3),
        }

        # Bulk import: ingest without queueing (the web tier's work), then queue chunks and time the workers.
        bulk_paths = paths[1 + args.e2e_single + args.e2e_burst :][: args.e2e_bulk]
        # The engine's own rate on exactly these images, measured now (the worker is idle), is the reference.
        engine_reference = run_engine(engine, bulk_paths)
        ingest_started = time.time()
        bulk = [artwork for artwork in (ingest(path, False) for path in bulk_paths) if artwork is not None]
        ingest_seconds = time.time() - ingest_started
        queued = time.time()
        classification_request(artwork_ids=[artwork.pk for artwork in bulk])
        done += len(bulk)
        wait_for(done, 900)
        last = max(p.created_at.timestamp() for p in Prediction.objects.filter(artwork__in=bulk))
        bulk_report = {
            "artworks": len(bulk),
            "ingest_seconds": round(ingest_seconds, 3),
            "ingest_per_s": round(len(bulk) / ingest_seconds, 2),
            "classification_seconds": round(last - queued, 3),
            "classification_per_s": round(len(bulk) / (last - queued), 2),
            "engine_in_process_per_s": engine_reference["images_per_s"],
        }
        assert Prediction.objects.count() == Artwork.objects.exclude(status="failed").count() == done
        assert warm is not None
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return {"single_uploads_idle": single, "burst_of_single_uploads": burst_report, "bulk_import": bulk_report}


def _recreate_database(url: str) -> None:
    """The scratch database starts empty every run (migrations then add styles and roles)."""
    from urllib.parse import urlparse

    import psycopg

    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        name = parsed.path.lstrip("/")
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


# --- main ----------------------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample-dir", type=Path, default=Path(os.environ.get("SAMPLE_DIR", DEFAULT_SAMPLE)))
    parser.add_argument("--dev-limit", type=int, default=None, help="Use only the first N dev-sample images.")
    parser.add_argument("--wikiart-count", type=int, default=96)
    parser.add_argument("--cache-dir", type=Path, default=REPO_ROOT / "var" / "bench" / "wikiart_sized")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2, help="Alternating runs per path; the best counts.")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--e2e-database-url", default=None, help="Scratch PostgreSQL database (name ends in _bench).")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--e2e-single", type=int, default=40, help="Idle single uploads (latency).")
    parser.add_argument("--e2e-burst", type=int, default=120, help="Single uploads sent back to back.")
    parser.add_argument("--e2e-bulk", type=int, default=320, help="Artworks in the bulk import.")
    args = parser.parse_args()

    from curation.styles import STYLE_CODES
    from mltrain.architectures import create_model

    torch.manual_seed(0)
    model = create_model(ARCHITECTURE, num_classes=len(STYLE_CODES), pretrained=True).eval()
    sets = {
        "dev_sample": dev_sample(args.sample_dir, args.dev_limit),
        "wikiart_sized": wikiart_sized(args.sample_dir, args.wikiart_count, args.cache_dir),
    }
    results: dict = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "model": ARCHITECTURE,
        "engine_vs_prototype": {},
    }
    engine = make_engine(model, args.batch_size)
    for name, paths in sets.items():
        sizes = [path.stat().st_size for path in paths]
        # The CPU is shared: alternate the two paths and keep each one's best run, so that a burst of load
        # from elsewhere does not decide the ratio.
        prototype_runs, engine_runs = [], []
        for _ in range(args.repeats):
            prototype_runs.append(run_prototype(model, paths))
            engine_runs.append(run_engine(engine, paths))
        prototype = max(prototype_runs, key=lambda run: run["images_per_s"])
        atelier = max(engine_runs, key=lambda run: run["images_per_s"])
        results["engine_vs_prototype"][name] = {
            "images": len(paths),
            "mean_file_kb": round(statistics.mean(sizes) / 1024, 1),
            "prototype": prototype,
            "engine": atelier,
            "ratio": round(atelier["images_per_s"] / prototype["images_per_s"], 2),
        }

    if args.e2e_database_url:
        with tempfile.TemporaryDirectory(prefix="atelier-bench-") as checkpoint_dir:
            e2e = run_end_to_end(args, sets["dev_sample"], Path(checkpoint_dir), engine)
        bulk = e2e["bulk_import"]
        e2e["throughput_ratio_to_engine"] = round(bulk["classification_per_s"] / bulk["engine_in_process_per_s"], 2)
        e2e["single_upload_latency_p95_s"] = e2e["single_uploads_idle"]["latency_p95_s"]
        results["end_to_end"] = e2e
    engine.close()

    print_table(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
        print(f"\nwrote {args.json}")


def print_table(results: dict) -> None:
    print(f"\nmodel {results['model']}, {results['machine']}")
    print(f"{'set':<15}{'path':<11}{'images':>7}{'img/s':>9}{'p50 s':>9}{'p95 s':>9}  notes")
    for name, entry in results["engine_vs_prototype"].items():
        for path in ("prototype", "engine"):
            row = entry[path]
            notes = (
                f"batch {row['batch_size']}, {row['autocast']}, decode ≥{row['decode_min_side']} px"
                if path == "engine"
                else "PIL full decode, batch 1, fp32"
            )
            print(
                f"{name:<15}{path:<11}{row['images']:>7}{row['images_per_s']:>9.1f}"
                f"{row['latency_p50_s']:>9.3f}{row['latency_p95_s']:>9.3f}  {notes}"
            )
        print(f"{name:<15}{'ratio':<11}{entry['ratio']:>16.2f}×  (mean file {entry['mean_file_kb']} KB)")
    e2e = results.get("end_to_end")
    if e2e:
        single, burst, bulk = e2e["single_uploads_idle"], e2e["burst_of_single_uploads"], e2e["bulk_import"]
        print("\nend to end (ingest → Redis → Celery worker → PostgreSQL)")
        print(
            f"  idle single uploads: {single['uploads']}, upload→prediction p50 {single['latency_p50_s']:.3f} s, "
            f"p95 {single['latency_p95_s']:.3f} s, p99 {single['latency_p99_s']:.3f} s"
        )
        print(
            f"  burst of {burst['uploads']} single uploads: {burst['uploads_per_s']:.1f}/s incl. ingest "
            f"(ingest alone {burst['ingest_seconds']:.1f} s), mean batch {burst['mean_batch_size']}, "
            f"max {burst['max_batch_size']}"
        )
        print(
            f"  bulk import of {bulk['artworks']}: ingest {bulk['ingest_per_s']:.1f}/s, classification "
            f"{bulk['classification_per_s']:.1f}/s = {e2e['throughput_ratio_to_engine']:.2f}× the engine's own "
            f"({bulk['engine_in_process_per_s']:.1f}/s on the same images, measured just before)"
        )


if __name__ == "__main__":
    main()
