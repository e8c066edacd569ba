"""The training loop: early stopping, resume, and DistributedDataParallel with two CPU processes (gloo)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

from mltrain.checkpoint import load_checkpoint
from mltrain.sampling import weighted_loss
from mltrain.train import EarlyStopping, fit

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    stopper = EarlyStopping(patience=3)
    scores = [0.2, 0.5, 0.4, 0.5, 0.45, 0.6, 0.1]
    stopped_at = None
    for epoch, score in enumerate(scores, start=1):
        stopper.step(score, epoch)
        if stopper.should_stop:
            stopped_at = epoch
            break

    # 0.5 at epoch 2 is the best; 0.4, 0.5 (a tie is no improvement) and 0.45 exhaust the patience at epoch 5.
    assert (stopped_at, stopper.best_epoch, stopper.best_score) == (5, 2, 0.5)


def _toy_problem(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(60, 8, generator=generator)
    labels = (features[:, 0] > 0).long() + (features[:, 1] > 0.5).long()
    train = DataLoader(TensorDataset(features[:40], labels[:40]), batch_size=8, shuffle=False)
    val = DataLoader(TensorDataset(features[40:], labels[40:]), batch_size=20)
    return train, val


def _fit(model, *, lr: float, epochs: int, patience: int, state_dir=None, resume=False):
    train, val = _toy_problem()
    return fit(
        model,
        train_loader=train,
        val_loader=val,
        criterion=weighted_loss([14, 13, 13]),
        optimizer=torch.optim.AdamW(model.parameters(), lr=lr),
        device="cpu",
        epochs=epochs,
        patience=patience,
        state_dir=state_dir,
        resume=resume,
        show_progress=False,
    )


def test_fit_stops_early_when_validation_macro_f1_never_improves():
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 3)

    result = _fit(model, lr=0.0, epochs=20, patience=4)  # lr 0: the score can never change

    assert result.stopped_early is True
    assert len(result.history) == 5  # the first epoch sets the best, four more without improvement
    assert result.best_epoch == 1
    assert len({record["val_macro_f1"] for record in result.history}) == 1


def test_fit_ends_training_when_the_time_budget_is_spent():
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 3)
    train, val = _toy_problem()

    result = fit(
        model,
        train_loader=train,
        val_loader=val,
        criterion=weighted_loss([14, 13, 13]),
        optimizer=torch.optim.AdamW(model.parameters(), lr=0.05),
        device="cpu",
        epochs=50,
        patience=50,
        time_budget_s=1e-9,  # spent after the first batch
        show_progress=False,
    )

    assert (result.stopped_early, result.stopped_by_time_budget) == (True, True)
    assert [record["epoch"] for record in result.history] == [1]
    assert result.best_epoch == 1


def test_fit_keeps_the_best_epochs_weights_and_resumes_from_the_last_epoch(tmp_path):
    torch.manual_seed(0)
    straight = torch.nn.Linear(8, 3)
    start = {key: value.clone() for key, value in straight.state_dict().items()}
    full = _fit(straight, lr=0.05, epochs=4, patience=10, state_dir=tmp_path / "full")

    torch.manual_seed(0)
    interrupted = torch.nn.Linear(8, 3)
    interrupted.load_state_dict(start)
    first_half = _fit(interrupted, lr=0.05, epochs=2, patience=10, state_dir=tmp_path / "resumed")
    resumed_model = torch.nn.Linear(8, 3)
    resumed = _fit(resumed_model, lr=0.05, epochs=4, patience=10, state_dir=tmp_path / "resumed", resume=True)

    assert resumed.resumed_from_epoch == 2
    assert [record["epoch"] for record in resumed.history] == [1, 2, 3, 4]
    assert resumed.history[:2] == first_half.history
    # Same weights, optimiser state and data order: the resumed run ends where the straight one did.
    assert [round(r["train_loss"], 6) for r in resumed.history] == [round(r["train_loss"], 6) for r in full.history]
    assert resumed.best_epoch == full.best_epoch
    assert torch.equal(resumed_model.weight, straight.weight)


def _run_ddp_script(subset_dir, tmp_path, *mode: str) -> None:
    script = Path(__file__).with_name("ddp_train.py")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    distributed = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script),
         str(subset_dir), str(tmp_path / "ddp"), *mode],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert distributed.returncode == 0, distributed.stderr[-3000:]
    single = subprocess.run(
        [sys.executable, str(script), str(subset_dir), str(tmp_path / "single"), *mode],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert single.returncode == 0, single.stderr[-3000:]


def test_two_process_ddp_run_matches_the_single_process_outputs(subset_dir, tmp_path):
    _run_ddp_script(subset_dir, tmp_path)

    ddp_metrics = json.loads((tmp_path / "ddp" / "metrics.json").read_text())
    single_metrics = json.loads((tmp_path / "single" / "metrics.json").read_text())
    assert set(ddp_metrics) == set(single_metrics)
    assert (ddp_metrics["world_size"], single_metrics["world_size"]) == (2, 1)
    assert ddp_metrics["n_test"] == single_metrics["n_test"] == 4
    assert len(ddp_metrics["confusion_matrix"]) == len(single_metrics["confusion_matrix"]) == 4
    assert len(json.loads((tmp_path / "ddp" / "history.json").read_text())) == 2
    ddp_checkpoint = load_checkpoint(tmp_path / "ddp" / "model.pt")
    single_checkpoint = load_checkpoint(tmp_path / "single" / "model.pt")
    assert {k: tuple(v.shape) for k, v in ddp_checkpoint["state_dict"].items()} == {
        k: tuple(v.shape) for k, v in single_checkpoint["state_dict"].items()
    }
    assert ddp_checkpoint["classes"] == single_checkpoint["classes"]
    # Only rank 0 wrote: one checkpoint, no leftovers from the other rank.
    assert sorted(path.name for path in (tmp_path / "ddp").iterdir()) == sorted(
        path.name for path in (tmp_path / "single").iterdir()
    )


def test_frozen_backbone_under_torchrun_trains_on_rank_zero_like_a_single_process(subset_dir, tmp_path):
    _run_ddp_script(subset_dir, tmp_path, "frozen")

    ddp_metrics = json.loads((tmp_path / "ddp" / "metrics.json").read_text())
    single_metrics = json.loads((tmp_path / "single" / "metrics.json").read_text())
    # Same features, seed and sampler on one process: the same model, whatever the world size.
    assert ddp_metrics["world_size"] == 2
    assert {key: ddp_metrics[key] for key in ("macro_f1", "temperature", "confusion_matrix", "epochs_run")} == {
        key: single_metrics[key] for key in ("macro_f1", "temperature", "confusion_matrix", "epochs_run")
    }
