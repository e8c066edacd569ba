"""Gallery, review queue and export with 100,000 artworks on PostgreSQL: time per request, queries per request,
the query plans, and the peak Python memory of a full streamed export.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/gallery.py [--artworks 100000]

Works in its own throwaway database (``<name>_gallery_bench``, dropped at the end unless --keep). Rows are
bulk-inserted (no image files: the pages only link to the image views), each with a prediction from one of two
model versions, a spread of confidences and statuses, and 5% in the review queue.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _bench_database_url(base_url: str) -> tuple[str, str, str]:
    parts = urlsplit(base_url)
    name = (parts.path.lstrip("/") or "postgres") + "_gallery_bench"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    return urlunsplit(parts._replace(path=f"/{name}")), admin_url, name


def _recreate(admin_url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


def _populate(count: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from classifier.models import ModelVersion, Prediction
    from curation.models import Artwork, ReviewTask, Style
    from curation.styles import STYLE_CODES

    rng = random.Random(123)
    styles = list(Style.objects.order_by("class_index"))
    versions = [
        ModelVersion.objects.create(
            name=f"bench-{index}",
            architecture="efficientnet_lite0",
            checkpoint_path=f"/nonexistent/bench-{index}/model.pt",
            checkpoint_sha256="0" * 64,
            classes=list(STYLE_CODES),
            preprocessing={"input_size": [3, 224, 224]},
            status="active" if index == 1 else "retired",
        )
        for index in range(2)
    ]
    artists = ["Monet", "Rubens", "Hokusai", "Picasso", "Vermeer", "Turner", "Kahlo", "Klimt"]
    statuses = ["classified"] * 70 + ["needs_review"] * 5 + ["reviewed"] * 20 + ["pending"] * 5
    started = time.perf_counter()
    batch = 5000
    with transaction.atomic():
        for start in range(0, count, batch):
            artworks = []
            for index in range(start, min(start + batch, count)):
                status = rng.choice(statuses)
                predicted = rng.choice(styles) if status != "pending" else None
                verified = rng.choice(styles) if status == "reviewed" else None
                artworks.append(
                    Artwork(
                        original=f"originals/{index:08d}.jpg",
                        display_image=f"display/{index:08d}.jpg",
                        thumbnail=f"thumbnails/{index:08d}.jpg",
                        sha256=f"{index:064x}",
                        file_size=100_000,
                        width=800,
                        height=600,
                        format="JPEG",
                        title=f"Study {index}",
                        artist=rng.choice(artists),
                        status=status,
                        predicted_style=predicted,
                        confidence=round(rng.random(), 4) if predicted else None,
                        verified_style=verified,
                        label_source="reviewer" if verified else "none",
                    )
                )
            Artwork.objects.bulk_create(artworks)
            created = [artwork for artwork in artworks if artwork.predicted_style_id]
            predictions = Prediction.objects.bulk_create(
                [
                    Prediction(
                        artwork=artwork,
                        model_version=versions[index % 2],
                        predicted_style=artwork.predicted_style,
                        top3=[{"style": artwork.predicted_style.code, "prob": artwork.confidence}],
                        confidence=artwork.confidence,
                        entropy=1.0,
                        latency_ms=rng.uniform(5, 60),
                    )
                    for index, artwork in enumerate(created)
                ]
            )
            for artwork, prediction in zip(created, predictions, strict=True):
                artwork.latest_prediction = prediction
            Artwork.objects.bulk_update(created, ["latest_prediction"], batch_size=batch)
            ReviewTask.objects.bulk_create(
                [
                    ReviewTask(artwork=artwork, prediction=prediction, priority=artwork.confidence)
                    for artwork, prediction in zip(created, predictions, strict=True)
                    if artwork.status == "needs_review"
                ]
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    user = get_user_model().objects.create_superuser("bench", "bench@example.org", "bench-password-1")
    return {"user": user, "versions": versions, "seconds": time.perf_counter() - started}


def _time_get(client, url: str, *, repeats: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    queries = 0
    status = 0
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            if response.streaming:
                b"".join(response.streaming_content)
            timings.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
        status = response.status_code
    return statistics.median(timings), max(timings), queries, status


def _explain(sql_url: str, client) -> str:
    """The plan of the page query (the last SELECT of the request) for one gallery URL."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(sql_url)
    page_query = [query["sql"] for query in captured if 'FROM "curation_artwork"' in query["sql"]][-1]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + page_query)
        return "\n".join("      " + row[0] for row in cursor.fetchall()[:8])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artworks", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    options = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith("postgres"):
        print("Set DATABASE_URL=postgres://… (the bench creates its own database next to it).", file=sys.stderr)
        return 2
    bench_url, admin_url, name = _bench_database_url(base_url)
    _recreate(admin_url, name)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]
    try:
        call_command("migrate", verbosity=0)
        data = _populate(options.artworks)
        print(f"inserted {options.artworks} artworks with predictions in {data['seconds']:.1f} s")
        client = Client()
        client.force_login(data["user"])
        version = data["versions"][1].pk
        deep_page = options.artworks // 48 // 2
        urls = [
            ("gallery, first page (24)", "/gallery/"),
            ("gallery, first page (96)", "/gallery/?per_page=96"),
            (f"gallery, page {deep_page} (48 per page)", f"/gallery/?per_page=48&page={deep_page}"),
            ("gallery, style + least confident first", "/gallery/?style=Baroque&sort=confidence"),
            (
                "gallery, needs review, confidence 0.2-0.4",
                "/gallery/?status=needs_review&confidence_min=0.2&confidence_max=0.4",
            ),
            ("gallery, model version + not reviewed", f"/gallery/?model_version={version}&reviewed=no"),
            ("gallery, search artist", "/gallery/?q=Hokusai"),
            ("review queue (claims the next task)", "/review/"),
            ("overview", "/"),
        ]
        for _, url in urls:
            client.get(url)  # warm up: templates compiled, connection open, caches filled
        print(f"\n{'request':48} {'median ms':>10} {'max ms':>8} {'queries':>8} {'status':>7}")
        for label, url in urls:
            median, worst, queries, status = _time_get(client, url, repeats=options.repeats)
            print(f"{label:48} {median:10.1f} {worst:8.1f} {queries:8d} {status:7d}")

        print("\nplans of the gallery's page query:")
        for label, url in urls[2:5]:
            print(f"  {label}:")
            print(_explain(url, client))

        tracemalloc.start()
        started = time.perf_counter()
        response = client.get("/export/artworks.csv")
        size = sum(len(chunk) for chunk in response.streaming_content)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"\nexport CSV of {options.artworks} artworks: {size / 1e6:.1f} MB streamed in {elapsed:.1f} s, "
            f"peak Python memory {peak / 1e6:.1f} MB"
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not options.keep:
            _recreate(admin_url, name, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
