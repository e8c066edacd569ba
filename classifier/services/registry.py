"""The model registry: registering, activating, rolling back and refusing model versions."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from classifier.models import ModelVersion, ModelVersionEvent, TrainingRun


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_version_register(
    *,
    name: str,
    architecture: str,
    checkpoint_path: str | Path,
    classes: list[str],
    preprocessing: dict[str, Any],
    temperature: float = 1.0,
    review_threshold: float = 0.5,
    timm_name: str = "",
    metrics: dict[str, Any] | None = None,
    training_config: dict[str, Any] | None = None,
    dataset_fingerprint: str = "",
    training_run: TrainingRun | None = None,
    actor: AbstractBaseUser | None = None,
) -> ModelVersion:
    """Record a checkpoint as a candidate version; its sha256 is computed from the file now."""
    checkpoint_path = Path(checkpoint_path).resolve()
    with transaction.atomic():
        version = ModelVersion.objects.create(
            name=name,
            architecture=architecture,
            timm_name=timm_name,
            checkpoint_path=str(checkpoint_path),
            checkpoint_sha256=file_sha256(checkpoint_path),
            classes=list(classes),
            preprocessing=preprocessing,
            temperature=temperature,
            review_threshold=review_threshold,
            metrics=metrics or {},
            training_config=training_config or {},
            dataset_fingerprint=dataset_fingerprint,
            training_run=training_run,
        )
        ModelVersionEvent.objects.create(model_version=version, actor=actor, action=ModelVersionEvent.Action.REGISTERED)
    return version


def model_version_activate(
    *, version: ModelVersion, actor: AbstractBaseUser | None = None, note: str = ""
) -> ModelVersion:
    """Make ``version`` the one active version; the previous one is retired. Written with its audit row.

    Activating an older version is recorded as a rollback.
    """
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if version.status == ModelVersion.Status.REFUSED:
            raise ValueError(f"Model version {version.name} was refused: {version.refused_reason}")
        previous = ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE).first()
        if previous is not None and previous.pk == version.pk:
            return version
        is_rollback = previous is not None and version.created_at < previous.created_at
        if previous is not None:
            previous.status = ModelVersion.Status.RETIRED
            previous.save(update_fields=["status"])
        version.status = ModelVersion.Status.ACTIVE
        version.activated_at = timezone.now()
        version.save(update_fields=["status", "activated_at"])
        ModelVersionEvent.objects.create(
            model_version=version,
            actor=actor,
            action=ModelVersionEvent.Action.ROLLED_BACK if is_rollback else ModelVersionEvent.Action.ACTIVATED,
            note=note or (f"previously active: {previous.name}" if previous else ""),
        )
    return version


def model_version_refuse(*, version: ModelVersion, reason: str) -> ModelVersion:
    """Mark a version unusable (e.g. its checkpoint no longer matches its sha256)."""
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        version.status = ModelVersion.Status.REFUSED
        version.refused_reason = reason
        version.save(update_fields=["status", "refused_reason"])
        ModelVersionEvent.objects.create(model_version=version, action=ModelVersionEvent.Action.REFUSED, note=reason)
    return version


def active_model_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()


def model_version_fallback(*, version: ModelVersion, reason: str) -> ModelVersion | None:
    """Refuse ``version`` and reactivate the most recently active version whose checkpoint still verifies.

    Called by the inference runtime when a checkpoint fails verification. Several workers may detect the
    same problem at once: the row lock makes the first one do the work and the others find it done.
    Returns the version now active (None when no good version is left).
    """
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if version.status == ModelVersion.Status.ACTIVE:
            model_version_refuse(version=version, reason=reason)
            candidates = ModelVersion.objects.filter(
                status=ModelVersion.Status.RETIRED, activated_at__isnull=False
            ).order_by("-activated_at", "-id")
            for candidate in candidates:
                try:
                    good = file_sha256(candidate.checkpoint_path) == candidate.checkpoint_sha256
                except OSError:
                    good = False
                if good:
                    return model_version_activate(
                        version=candidate, note=f"automatic fallback: {version.name} was refused ({reason})"
                    )
                model_version_refuse(version=candidate, reason="checkpoint failed verification during fallback")
    return active_model_version()
