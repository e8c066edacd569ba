"""manage.py train_models — thin over mltrain: parse options, call ``mltrain.db.train_models_run``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mltrain.architectures import ARCHITECTURES, PretrainedWeightsUnavailable
from mltrain.config import PRESETS


class Command(BaseCommand):
    help = (
        "Train, calibrate and evaluate models on a WikiArt folder and/or the database's verified labels; register "
        "each as a ModelVersion (optionally activating the best)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", help="WikiArt folder tree: one sub-folder per style")
        parser.add_argument("--from-db", action="store_true", help="use artworks with a verified style")
        parser.add_argument("--models", help=f"comma-separated, from: {', '.join(ARCHITECTURES)}")
        parser.add_argument("--preset", choices=sorted(PRESETS), help="cpu: EfficientNet-Lite0, frozen backbone")
        parser.add_argument("--epochs", type=int)
        parser.add_argument("--batch-size", type=int)
        parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1 …")
        parser.add_argument("--freeze-backbone", action="store_true", help="train the head on cached features")
        parser.add_argument("--no-pretrained", dest="pretrained", action="store_false", help="random initialisation")
        parser.add_argument("--weights", help="pretrained backbone weights file (offline alternative to the hub)")
        parser.add_argument("--output", help="output folder (default: ATELIER['MODEL_DIR'])")
        parser.add_argument("--activate-best", action="store_true")
        parser.add_argument("--resume", action="store_true", help="continue the latest unfinished run per model")
        parser.add_argument("--split", choices=["stratified", "artgan"], default="stratified")
        parser.add_argument("--artgan-dir", help="folder with style_train.csv/style_val.csv (default: beside --data)")
        parser.add_argument("--input-size", type=int, help="square input size (default 224)")
        parser.add_argument("--num-workers", type=int, help="DataLoader decoding workers")
        parser.add_argument("--patience", type=int, help="early-stopping patience in epochs")
        parser.add_argument("--lr", type=float)
        parser.add_argument("--seed", type=int)
        parser.add_argument(
            "--time-budget-minutes", type=float, help="stop training after this long (CPU default 10; none on GPU)"
        )
        parser.add_argument("--review-precision", type=float, help="target precision of auto-accepted (0.9)")

    def handle(self, *args, **options) -> None:
        from mltrain.db import TRAIN_OPTION_DEFAULTS, train_models_run

        train_options = {key: options.get(key) for key in TRAIN_OPTION_DEFAULTS}
        try:
            versions = train_models_run(options=train_options, stdout=self.stdout.write)
        except (ValueError, FileNotFoundError, PretrainedWeightsUnavailable) as exc:
            raise CommandError(str(exc)) from exc
        for version in versions:
            version.refresh_from_db()
            self.stdout.write(
                f"{version.name} (id {version.pk}): val macro-F1 {version.metrics['val_macro_f1']:.4f}, "
                f"test macro-F1 {version.metrics['macro_f1']:.4f} "
                f"[{version.metrics['macro_f1_ci95'][0]:.4f}, {version.metrics['macro_f1_ci95'][1]:.4f}], "
                f"status {version.status}, folder {version.metrics['run_dir']}"
            )
