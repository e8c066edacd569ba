"""``manage.py reclassify``: re-run selected artworks through the active model version."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from classifier.models import ModelVersion
from classifier.selectors import artworks_for_reclassification
from classifier.services.inference import artworks_reclassify
from classifier.services.registry import active_model_version
from curation.models import Artwork, Style


class Command(BaseCommand):
    help = "Queue artworks (by status, style, or the version of their latest prediction) for the active version."

    def add_arguments(self, parser):
        parser.add_argument("--status", action="append", default=[], choices=Artwork.Status.values)
        parser.add_argument("--style", action="append", default=[], help="Predicted or verified style code.")
        parser.add_argument("--model-version", action="append", default=[], help="Name of the latest prediction's.")
        parser.add_argument("--all", action="store_true", help="Every artwork (required when no filter is given).")

    def handle(self, *args, **options):
        statuses, styles, versions = options["status"], options["style"], options["model_version"]
        if not (statuses or styles or versions or options["all"]):
            raise CommandError("Choose artworks with --status, --style or --model-version, or pass --all.")
        unknown_styles = sorted(set(styles) - set(Style.objects.values_list("code", flat=True)))
        if unknown_styles:
            raise CommandError(f"Unknown style codes: {', '.join(unknown_styles)}")
        unknown_versions = sorted(set(versions) - set(ModelVersion.objects.values_list("name", flat=True)))
        if unknown_versions:
            raise CommandError(f"Unknown model versions: {', '.join(unknown_versions)}")
        active = active_model_version()
        if active is None:
            raise CommandError("No model version is active; activate one first.")
        artwork_ids = list(
            artworks_for_reclassification(
                statuses=statuses, style_codes=styles, model_version_names=versions
            ).values_list("pk", flat=True)
        )
        artworks_reclassify(artwork_ids=artwork_ids)
        self.stdout.write(f"Queued {len(artwork_ids)} artworks for {active.name}.")
