"""manage.py bootstrap_demo — what `make run` does before serving: idempotent, a second run reuses everything."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from classifier.models import ModelVersion
from classifier.services.dispatch import classification_request
from curation.models import Artwork

DEMO_USERNAME = "admin"


class Command(BaseCommand):
    help = "Migrate, create the demo superuser, import the sample collection and train a first model if none exists."

    def add_arguments(self, parser):
        parser.add_argument("--sample-dir", type=Path, default=None)
        parser.add_argument("--skip-training", action="store_true")

    def handle(self, *args, sample_dir: Path | None, skip_training: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self._demo_superuser()
        if sample_dir is not None and sample_dir.is_dir():
            call_command("import_artworks", str(sample_dir), with_labels=True, no_classify=True)
        elif sample_dir is not None:
            self.stdout.write(f"No sample collection at {sample_dir}; starting with an empty collection.")
        if not ModelVersion.objects.exists() and not skip_training and sample_dir is not None and sample_dir.is_dir():
            self.stdout.write("No model yet: training the CPU preset on the sample collection (a few minutes, once).")
            call_command("train_models", data=str(sample_dir), preset="cpu", activate_best=True)
        pending = list(Artwork.objects.filter(status=Artwork.Status.PENDING).values_list("pk", flat=True))
        if pending and ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exists():
            self.stdout.write(f"Classifying {len(pending)} pending artworks with the active model.")
            for start in range(0, len(pending), 64):
                classification_request(artwork_ids=pending[start : start + 64])

    def _demo_superuser(self) -> None:
        credentials_file = Path(settings.VAR_DIR) / "demo-credentials.txt"
        User = get_user_model()
        if User.objects.filter(username=DEMO_USERNAME).exists() and credentials_file.exists():
            password = credentials_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(12)
            user, _ = User.objects.get_or_create(username=DEMO_USERNAME, defaults={"email": "admin@example.org"})
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
            credentials_file.parent.mkdir(parents=True, exist_ok=True)
            credentials_file.write_text(password + "\n")
            credentials_file.chmod(0o600)
        self.stdout.write(self.style.SUCCESS(f"Demo superuser: {DEMO_USERNAME} / {password}"))
