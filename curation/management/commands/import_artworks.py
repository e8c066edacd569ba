"""manage.py import_artworks DIR — import a WikiArt folder tree (27 style folders) through the ingest service."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from classifier.services.dispatch import classification_request
from curation.models import Style
from curation.services.ingest import IngestError, artwork_ingest

CLASSIFICATION_CHUNK = 64


def _title_and_artist(stem: str) -> dict[str, str]:
    """WikiArt names files ``artist-name_title-of-work``; a ``source__`` prefix may precede that."""
    stem = stem.split("__", 1)[-1]
    artist, _, title = stem.partition("_")
    if not title:
        return {"title": stem.replace("-", " ")[:255], "artist": ""}
    return {"title": title.replace("-", " ")[:255], "artist": artist.replace("-", " ").title()[:255]}


class Command(BaseCommand):
    help = "Import a WikiArt-style folder tree: one sub-folder per ArtGAN style, images inside."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--with-labels",
            action="store_true",
            help="Record each folder's style as the verified style (label source: dataset).",
        )
        parser.add_argument("--source", default="", help="Source recorded on each artwork (default: folder path).")
        parser.add_argument("--no-classify", action="store_true", help="Do not queue the new artworks for inference.")

    def handle(self, *args, directory: Path, with_labels: bool, source: str, no_classify: bool, **options):
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory.")
        styles = {style.code: style for style in Style.objects.all()}
        folders = sorted(path for path in directory.iterdir() if path.is_dir())
        unknown = [folder.name for folder in folders if folder.name not in styles]
        for name in unknown:
            self.stderr.write(f"Skipped folder {name!r}: not one of the 27 ArtGAN style names.")
        files = [
            (folder, path)
            for folder in folders
            if folder.name in styles
            for path in sorted(folder.iterdir())
            if path.is_file() and not path.name.startswith(".")
        ]
        if not files:
            raise CommandError(f"No image files found in style folders under {directory}.")

        imported, duplicates, rejects, pending_ids = 0, 0, [], []
        for folder, path in tqdm(files, desc="Importing", unit="img", disable=options["verbosity"] == 0):
            try:
                with open(path, "rb") as handle:
                    result = artwork_ingest(
                        file=handle,
                        filename=path.name,
                        **_title_and_artist(path.stem),
                        source=source or str(folder.relative_to(directory.parent)),
                        dataset_style=styles[folder.name] if with_labels else None,
                        request_classification=False,
                    )
            except IngestError as error:
                rejects.append((path, error))
                continue
            if result.created:
                imported += 1
                pending_ids.append(result.artwork.pk)
                if not no_classify and len(pending_ids) >= CLASSIFICATION_CHUNK:
                    classification_request(artwork_ids=pending_ids)
                    pending_ids = []
            else:
                duplicates += 1
        if pending_ids and not no_classify:
            classification_request(artwork_ids=pending_ids)

        for path, error in rejects:
            self.stderr.write(f"Rejected {path.relative_to(directory)}: {error.message} [{error.code}]")
        if imported == 0 and not rejects:
            self.stdout.write(f"Nothing to import: all {duplicates} files are already in the collection.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported {imported} artworks; {duplicates} already present; {len(rejects)} rejected; "
                    f"{len(unknown)} unknown folders skipped."
                )
            )
