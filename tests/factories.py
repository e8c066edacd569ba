"""factory_boy factories shared by the suites."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """UserFactory(roles=["reviewer"]) puts the user in those groups (created by the roles migration)."""
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


# --- Artworks, model versions, predictions and review tasks -----------------------------------------------------

from curation.styles import STYLE_CODES  # noqa: E402


def _small_sample_images() -> list:
    """Dev-sample JPEGs, smallest first (fast to ingest), each side at least the ingest minimum of 150 px."""
    import csv

    from tests.conftest import SAMPLE_DIR

    with open(SAMPLE_DIR / "labels.csv", newline="") as handle:
        rows = [
            row
            for row in csv.DictReader(handle)
            if row["format"] == "JPEG" and min(int(row["width"]), int(row["height"])) >= 150
        ]
    rows.sort(key=lambda row: (int(row["width"]) * int(row["height"]), row["file"]))
    return [(SAMPLE_DIR / row["file"], row["style"]) for row in rows]


_SAMPLE_IMAGES: list = []


def _style(code: str):
    from curation.models import Style

    return Style.objects.get(code=code)


def sample_image(index: int):
    """The ``index``-th small dev-sample image as (path, style code); wraps around."""
    if not _SAMPLE_IMAGES:
        _SAMPLE_IMAGES.extend(_small_sample_images())
    return _SAMPLE_IMAGES[index % len(_SAMPLE_IMAGES)]


class ArtworkFactory(factory.Factory):
    """An artwork ingested from a real dev-sample image through ``artwork_ingest`` (no classification queued).

    ``ArtworkFactory(image_index=3)`` picks the image; titles default to the file name.
    """

    class Meta:
        model = dict

    image_index = factory.Sequence(lambda n: n)
    title = factory.LazyAttribute(lambda o: sample_image(o.image_index)[0].stem[:80])
    artist = ""
    uploaded_by = None

    @classmethod
    def _create(cls, model_class, image_index, title, artist, uploaded_by, **kwargs):
        from curation.services.ingest import artwork_ingest

        path, _ = sample_image(image_index)
        with open(path, "rb") as handle:
            result = artwork_ingest(
                file=handle,
                filename=path.name,
                title=title,
                artist=artist,
                uploaded_by=uploaded_by,
                request_classification=False,
                **kwargs,
            )
        return result.artwork


class ModelVersionFactory(factory.django.DjangoModelFactory):
    """A registered version whose checkpoint path is a dummy file name (not loadable; fine for review tests)."""

    class Meta:
        model = "classifier.ModelVersion"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"test-model-{n}")
    architecture = "efficientnet_lite0"
    checkpoint_path = factory.LazyAttribute(lambda o: f"/nonexistent/{o.name}/model.pt")
    checkpoint_sha256 = "0" * 64
    classes = factory.LazyFunction(lambda: list(STYLE_CODES))
    preprocessing = factory.LazyFunction(
        lambda: {
            "input_size": [3, 224, 224],
            "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225],
            "interpolation": "bicubic",
            "crop_pct": 0.875,
        }
    )
    temperature = 1.0
    review_threshold = 0.5
    metrics = factory.LazyFunction(dict)


def _top3(code: str, confidence: float) -> list[dict]:
    """A plausible top 3 after ``code``: descending probabilities that sum to at most 1."""
    rest = 1 - confidence
    second = round(min(confidence * 0.9, rest * 0.6), 6)
    third = round(min(second * 0.9, (rest - second) * 0.5), 6)
    others = [other for other in ("Post_Impressionism", "Realism", "Romanticism") if other != code][:2]
    return [
        {"style": code, "prob": confidence},
        {"style": others[0], "prob": second},
        {"style": others[1], "prob": third},
    ]


class PredictionFactory(factory.django.DjangoModelFactory):
    """A prediction whose top-3 starts with ``predicted_style`` at ``confidence`` (pass ``top3`` to choose)."""

    class Meta:
        model = "classifier.Prediction"

    artwork = factory.SubFactory(ArtworkFactory)
    model_version = factory.SubFactory(ModelVersionFactory)
    predicted_style = factory.LazyFunction(lambda: _style("Impressionism"))
    confidence = 0.42
    top3 = factory.LazyAttribute(lambda o: _top3(o.predicted_style.code, o.confidence))
    entropy = 1.25
    latency_ms = 12.5
    batch_size = 1


def review_task_create(*, confidence: float = 0.42, predicted_style: str = "Impressionism", **artwork_kwargs):
    """An artwork with a prediction, routed to review: artwork fields set as routing sets them, task open with
    its ``opened`` event. Built with plain ORM calls because routing is the classifier's service."""
    from curation.models import Artwork, ReviewEvent, ReviewTask, Style

    artwork = ArtworkFactory(**artwork_kwargs)
    style = Style.objects.get(code=predicted_style)
    prediction = PredictionFactory(
        artwork=artwork,
        model_version=ModelVersionFactory(name="review-model"),
        predicted_style=style,
        confidence=confidence,
    )
    Artwork.objects.filter(pk=artwork.pk).update(
        latest_prediction=prediction,
        predicted_style=style,
        confidence=confidence,
        status=Artwork.Status.NEEDS_REVIEW,
    )
    task = ReviewTask.objects.create(artwork=artwork, prediction=prediction, priority=confidence)
    ReviewEvent.objects.create(task=task, artwork=artwork, action=ReviewEvent.Action.OPENED, to_style=style)
    return task


def reference_data_restore() -> None:
    """Recreate what the migrations put in the database (content types, permissions, the 27 styles, the role
    groups), idempotently. A transactional test's flush empties every table; ``serialized_rollback`` cannot
    always restore them (Playwright's sync API runs the test in a greenlet whose context has a different
    database connection object, without the serialized data), so transactional suites call this instead."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.management import create_contenttypes
    from django.contrib.contenttypes.models import ContentType

    from curation.models import Style
    from curation.roles import ROLE_PERMISSIONS
    from curation.styles import STYLES

    ContentType.objects.clear_cache()
    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)
    for class_index, (code, name) in enumerate(STYLES):
        Style.objects.update_or_create(code=code, defaults={"class_index": class_index, "name": name})
    for role, permission_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(
            [
                Permission.objects.get(content_type__app_label=name.split(".")[0], codename=name.split(".")[1])
                for name in permission_names
            ]
        )
