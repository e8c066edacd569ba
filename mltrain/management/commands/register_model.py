"""manage.py register_model — bring in a checkpoint trained elsewhere, verified to load, with its sha256."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from classifier.services.registry import model_version_activate
from mltrain.architectures import ARCHITECTURES
from mltrain.checkpoint import CheckpointError
from mltrain.db import checkpoint_import


class Command(BaseCommand):
    help = (
        "Register a checkpoint trained elsewhere: an Atelier checkpoint, or a plain state dict for a registered "
        "architecture (e.g. the prototype's EVA02-CLIP B/16 with 27 classes). It is loaded strictly before it is "
        "recorded."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--checkpoint", required=True, help="a .pt/.pth/.safetensors file")
        parser.add_argument("--arch", help=f"registry name: {', '.join(ARCHITECTURES)} (plain state dicts)")
        parser.add_argument(
            "--classes",
            help="style codes in output order, comma-separated, or 'artgan' for the 27 styles in ArtGAN order",
        )
        parser.add_argument("--name", help="version name (default: from the file name)")
        parser.add_argument("--temperature", type=float, help="calibration temperature (default: checkpoint's or 1)")
        parser.add_argument("--review-threshold", type=float, help="default: checkpoint's or 0.5")
        parser.add_argument("--input-size", type=int, help="square input size (default 224)")
        parser.add_argument("--output", help="folder to store the converted checkpoint (default: MODEL_DIR)")
        parser.add_argument("--activate", action="store_true", help="make it the active version")

    def handle(self, *args, **options) -> None:
        output = Path(options["output"] or settings.ATELIER["MODEL_DIR"])
        try:
            version = checkpoint_import(
                source=Path(options["checkpoint"]),
                architecture=options["arch"],
                classes=options["classes"],
                name=options["name"],
                temperature=options["temperature"],
                review_threshold=options["review_threshold"],
                input_size=options["input_size"],
                output_dir=output,
            )
        except (ValueError, FileNotFoundError, CheckpointError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Registered {version.name} (id {version.pk}): {version.architecture}, {len(version.classes)} classes, "
            f"sha256 {version.checkpoint_sha256}, checkpoint {version.checkpoint_path}"
        )
        if options["activate"]:
            model_version_activate(version=version, note="registered with --activate")
            self.stdout.write(f"Activated {version.name}")
