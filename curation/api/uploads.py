"""Several files in one upload request: each through the one ingest path, then one classification request."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from django.contrib.auth.base_user import AbstractBaseUser

from classifier.services.dispatch import classification_request
from curation.models import Artwork
from curation.services.ingest import IngestError, artwork_ingest


@dataclass(frozen=True)
class UploadOutcome:
    filename: str
    outcome: str  # "accepted" | "duplicate" | "rejected"
    artwork: Artwork | None = None
    error: IngestError | None = None


def artwork_upload_batch(
    *,
    files: Iterable[IO[bytes]],
    uploaded_by: AbstractBaseUser,
    title: str = "",
    artist: str = "",
    year: int | None = None,
    source: str = "",
) -> list[UploadOutcome]:
    """Ingest every file on its own (a refused file stores nothing and does not stop the others), then queue the
    new artworks for classification together: one request for the batch lets the workers predict them in
    batches instead of one task per file. Returns what happened to each file, in order.
    """
    outcomes: list[UploadOutcome] = []
    for file in files:
        filename = getattr(file, "name", "") or ""
        try:
            result = artwork_ingest(
                file=file,
                uploaded_by=uploaded_by,
                filename=filename,
                title=title,
                artist=artist,
                year=year,
                source=source,
                request_classification=False,
            )
        except IngestError as error:
            outcomes.append(UploadOutcome(filename=filename, outcome="rejected", error=error))
            continue
        outcome = "accepted" if result.created else "duplicate"
        outcomes.append(UploadOutcome(filename=filename, outcome=outcome, artwork=result.artwork))
    classification_request(artwork_ids=[o.artwork.pk for o in outcomes if o.outcome == "accepted"])
    return outcomes
