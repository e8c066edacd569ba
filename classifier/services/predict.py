"""Storing a synchronous ``/predict`` result together with the upload it came from."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction

from classifier.engine.core import ImagePrediction
from classifier.models import ModelVersion
from classifier.services.inference import prediction_record
from curation.models import Artwork
from curation.services.ingest import artwork_ingest


def artwork_ingest_with_prediction(
    *,
    data: bytes,
    filename: str,
    uploaded_by: AbstractBaseUser,
    model_version: ModelVersion,
    outcome: ImagePrediction,
) -> Artwork:
    """Ingest the image and record the prediction already computed for it, routed as any other.

    The usual classification request is still queued; the worker finds the prediction there and skips it. An
    artwork that already existed (same bytes) only gains the prediction if it had none by this version.
    """
    result = None
    try:
        with transaction.atomic():
            result = artwork_ingest(file=data, filename=filename, uploaded_by=uploaded_by)
            prediction_record(artwork_id=result.artwork.pk, model_version=model_version, outcome=outcome)
    except BaseException:
        # The row rolled back with the transaction; the files ingest wrote must not outlive it.
        if result is not None and result.created:
            for field in (result.artwork.original, result.artwork.display_image, result.artwork.thumbnail):
                default_storage.delete(field.name)
        raise
    result.artwork.refresh_from_db()
    return result.artwork
