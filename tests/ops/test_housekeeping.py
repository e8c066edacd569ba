"""Housekeeping with real files: orphans left by crashes go, files of artworks and young files stay."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from config.housekeeping_tasks import housekeeping
from curation.models import Artwork
from curation.services.housekeeping import media_housekeeping_run
from tests.factories import ArtworkFactory, sample_image

pytestmark = pytest.mark.django_db

DAY = 24 * 60 * 60


def _write(path: Path, data: bytes, *, age_seconds: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = time.time() - age_seconds
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def upload_dir(settings, tmp_path) -> Path:
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-spool")
    return Path(settings.FILE_UPLOAD_TEMP_DIR)


@pytest.fixture
def leftovers(upload_dir):
    """Two artworks (their files made old too), crash leftovers, and young files of an upload in progress."""
    media = Path(django_settings.MEDIA_ROOT)
    artworks = [ArtworkFactory(image_index=index) for index in range(2)]
    for artwork in artworks:
        for field in (artwork.original, artwork.display_image, artwork.thumbnail):
            stamp = time.time() - 3 * DAY
            os.utime(media / field.name, (stamp, stamp))
    image = sample_image(5)[0].read_bytes()
    old = {
        "originals/deadbeef.jpg": _write(media / "originals/deadbeef.jpg", image, age_seconds=2 * DAY),
        "display/deadbeef.jpg": _write(media / "display/deadbeef.jpg", image, age_seconds=2 * DAY),
        "thumbnails/deadbeef.jpg": _write(media / "thumbnails/deadbeef.jpg", image[:5000], age_seconds=7 * 60 * 60),
    }
    young = [
        _write(media / "originals/inflight.jpg", image, age_seconds=60),
        _write(upload_dir / "tmpabc.upload.jpg", image, age_seconds=23 * 60 * 60),
    ]
    stale_upload = _write(upload_dir / "tmpold.upload.jpg", image, age_seconds=25 * 60 * 60)
    # Files outside the artwork folders are never ours to judge.
    unrelated = _write(media / "exports/labels.csv", b"style\n", age_seconds=30 * DAY)
    return {"artworks": artworks, "old": old, "young": young, "stale_upload": stale_upload, "unrelated": unrelated}


def test_task_removes_orphans_and_stale_uploads_and_reports_them(leftovers):
    image_size = len(sample_image(5)[0].read_bytes())

    report = housekeeping.delay().get()

    assert report == {
        "orphan_media": 3,
        "stale_uploads": 1,
        "bytes_freed": 3 * image_size + 5000,
        "dry_run": False,
        "removed": [*sorted(leftovers["old"]), str(leftovers["stale_upload"])],
    }
    for path in leftovers["old"].values():
        assert not path.exists()
    assert not leftovers["stale_upload"].exists()
    for path in leftovers["young"]:
        assert path.exists()
    assert leftovers["unrelated"].exists()
    media = Path(django_settings.MEDIA_ROOT)
    assert Artwork.objects.count() == 2
    for artwork in leftovers["artworks"]:
        for field in (artwork.original, artwork.display_image, artwork.thumbnail):
            assert (media / field.name).is_file()


def test_dry_run_reports_without_removing(leftovers):
    report = media_housekeeping_run(dry_run=True)
    assert sorted(report.orphan_media) == sorted(leftovers["old"])
    assert report.stale_uploads == [str(leftovers["stale_upload"])]
    for path in [*leftovers["old"].values(), leftovers["stale_upload"], *leftovers["young"]]:
        assert path.exists()


def test_a_second_run_finds_nothing(leftovers):
    media_housekeeping_run()
    again = media_housekeeping_run()
    assert again.as_dict() == {"orphan_media": 0, "stale_uploads": 0, "bytes_freed": 0, "dry_run": False, "removed": []}


def test_housekeeping_is_scheduled():
    assert django_settings.CELERY_BEAT_SCHEDULE["housekeeping"]["task"] == "atelier.housekeeping"
    assert django_settings.CELERY_BEAT_SCHEDULE["housekeeping"]["schedule"] == 6 * 60 * 60.0
