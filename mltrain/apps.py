from django.apps import AppConfig


class MltrainConfig(AppConfig):
    """Training library. Its core modules import no Django; only ``db.py`` and the commands do."""

    name = "mltrain"
    verbose_name = "Training"
