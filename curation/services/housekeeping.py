"""Housekeeping: remove what crashes leave behind.

The ingest service writes an upload's files before its row (the row must name them) and deletes them again if
the row is not written; a process killed in between leaves files that no artwork references. Request bodies
that Django spooled to disk are normally deleted when the request ends; a killed gunicorn worker leaves them.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from curation.models import Artwork

logger = logging.getLogger(__name__)

# The upload_to folders of Artwork's file fields: nothing else under MEDIA_ROOT is touched.
ARTWORK_MEDIA_DIRS = ("originals", "display", "thumbnails")


@dataclass
class HousekeepingReport:
    orphan_media: list[str] = field(default_factory=list)
    stale_uploads: list[str] = field(default_factory=list)
    bytes_freed: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict:
        return {
            "orphan_media": len(self.orphan_media),
            "stale_uploads": len(self.stale_uploads),
            "bytes_freed": self.bytes_freed,
            "dry_run": self.dry_run,
            "removed": sorted(self.orphan_media) + sorted(self.stale_uploads),
        }


def _files_older_than(root: Path, cutoff: float) -> list[Path]:
    if not root.is_dir():
        return []
    found = []
    for directory, _dirs, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            try:
                if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                    found.append(path)
            except FileNotFoundError:
                continue  # removed meanwhile (a request finished)
    return found


def _remove(path: Path, report: HousekeepingReport) -> bool:
    try:
        size = path.stat().st_size
        if not report.dry_run:
            path.unlink()
    except FileNotFoundError:
        return False
    report.bytes_freed += size
    return True


def media_housekeeping_run(*, dry_run: bool = False, now: float | None = None) -> HousekeepingReport:
    """Delete artwork media files that no Artwork row references (older than ``ORPHAN_MEDIA_MIN_AGE_SECONDS``)
    and spooled upload files older than ``STALE_UPLOAD_AGE_SECONDS``; report what was (or would be) removed.

    Files are listed before the database is asked which names are in use, so a row committed during the run
    always protects its files; the minimum age protects uploads whose row is still being written.
    """
    now = time.time() if now is None else now
    options = settings.ATELIER
    report = HousekeepingReport(dry_run=dry_run)
    media_root = Path(settings.MEDIA_ROOT)

    orphan_cutoff = now - options["ORPHAN_MEDIA_MIN_AGE_SECONDS"]
    candidates = [
        path for folder in ARTWORK_MEDIA_DIRS for path in _files_older_than(media_root / folder, orphan_cutoff)
    ]
    if candidates:
        referenced: set[str] = set()
        for names in Artwork.objects.values_list("original", "display_image", "thumbnail").iterator(chunk_size=5000):
            referenced.update(names)
        for path in candidates:
            name = path.relative_to(media_root).as_posix()
            if name not in referenced and _remove(path, report):
                report.orphan_media.append(name)

    upload_cutoff = now - options["STALE_UPLOAD_AGE_SECONDS"]
    upload_dirs = {Path(settings.FILE_UPLOAD_TEMP_DIR)} if settings.FILE_UPLOAD_TEMP_DIR else set()
    upload_dirs.add(media_root / "tmp")
    for upload_dir in sorted(upload_dirs):
        for path in _files_older_than(upload_dir, upload_cutoff):
            if _remove(path, report):
                report.stale_uploads.append(str(path))

    logger.info(
        "housekeeping %s %d orphan media files and %d stale uploads (%d bytes)",
        "would remove" if dry_run else "removed",
        len(report.orphan_media),
        len(report.stale_uploads),
        report.bytes_freed,
        extra={"orphan_media": report.orphan_media[:100], "stale_uploads": report.stale_uploads[:100]},
    )
    return report
