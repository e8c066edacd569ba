"""manage.py evaluate_model VERSION --data DIR [--output DIR] — the full report of a version on labelled images."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from classifier.models import ModelVersion
from classifier.services.registry import active_model_version, file_sha256
from mltrain.checkpoint import CheckpointError
from mltrain.config import resolve_device
from mltrain.data import samples_from_folder
from mltrain.evaluation import evaluate_checkpoint
from mltrain.report import format_report


class Command(BaseCommand):
    help = "Evaluate a registered model version (id, name or 'active') on a folder of labelled images."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", help="ModelVersion id or name, or 'active'")
        parser.add_argument("--data", required=True, help="folder tree: one sub-folder per style")
        parser.add_argument("--output", help="write metrics.json and the pictures here")
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument("--device", default="cpu", help="cpu, cuda, or auto")

    def handle(self, *args, **options) -> None:
        version = _find_version(options["version"])
        path = Path(version.checkpoint_path)
        if not path.is_file():
            raise CommandError(f"Checkpoint of {version.name} is missing: {path}")
        if file_sha256(path) != version.checkpoint_sha256:
            raise CommandError(f"Checkpoint of {version.name} does not match its recorded sha256; refusing it")
        try:
            device = resolve_device(options["device"])
            samples = samples_from_folder(options["data"])
            report = evaluate_checkpoint(
                path,
                samples=samples,
                output_dir=options["output"],
                temperature=version.temperature,
                review_threshold_value=version.review_threshold,
                batch_size=options["batch_size"],
                device=device,
            )
        except (ValueError, FileNotFoundError, CheckpointError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{version.name} ({version.architecture}) on {options['data']}")
        self.stdout.write(format_report(report))
        if report["unknown_classes"]:
            self.stdout.write(f"labels the model does not know (always wrong): {', '.join(report['unknown_classes'])}")
        if options["output"]:
            self.stdout.write(f"report written to {options['output']}")


def _find_version(reference: str) -> ModelVersion:
    if reference == "active":
        version = active_model_version()
        if version is None:
            raise CommandError("No model version is active")
        return version
    query = ModelVersion.objects.filter(pk=int(reference)) if reference.isdigit() else None
    version = (query.first() if query is not None else None) or ModelVersion.objects.filter(name=reference).first()
    if version is None:
        raise CommandError(f"No model version with id or name {reference!r}")
    return version
