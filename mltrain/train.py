"""Training loop as free functions (timm style): ``train_one_epoch``, ``evaluate``, ``fit``.

``fit`` keeps the best weights by validation macro-F1, stops after ``patience`` epochs without improvement, writes
``last.pt`` after every epoch so ``resume=True`` continues where a run stopped, and works unchanged under
DistributedDataParallel (``torchrun``): every rank trains, rank 0 evaluates and decides, the decision is broadcast.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import f1_score
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

LAST_STATE_FILE = "last.pt"
BEST_STATE_FILE = "best_state.pt"


# --- distributed helpers ------------------------------------------------------------------------------------
def distributed_world() -> tuple[int, int, int]:
    """(rank, local_rank, world_size) from the torchrun environment; (0, 0, 1) when not distributed."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0")), world_size


def init_distributed(device: str) -> tuple[int, int]:
    """Join the process group torchrun prepared (gloo on CPU, nccl on CUDA); returns (rank, world_size)."""
    rank, local_rank, world_size = distributed_world()
    if world_size > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if device.startswith("cuda"):
            torch.cuda.set_device(local_rank)
        torch.distributed.init_process_group(backend=backend)
    return rank, world_size


def is_distributed() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def broadcast_from_main(value: Any) -> Any:
    if not is_distributed():
        return value
    holder = [value]
    torch.distributed.broadcast_object_list(holder, src=0)
    return holder[0]


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


# --- mixed precision ----------------------------------------------------------------------------------------
def autocast_for(device: str) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA where supported (fp16 otherwise); full precision on CPU."""
    if device.startswith("cuda"):
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    return contextlib.nullcontext()


def needs_grad_scaler(device: str) -> bool:
    return device.startswith("cuda") and not torch.cuda.is_bf16_supported()


# --- one epoch ----------------------------------------------------------------------------------------------
def train_one_epoch(
    model: nn.Module,
    loader: DataLoader,
    *,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    device: str,
    grad_clip: float = 1.0,
    scaler: torch.amp.GradScaler | None = None,
    description: str = "train",
    show_progress: bool = True,
    deadline: float | None = None,
) -> float:
    """One pass over ``loader`` (cut short at ``deadline``, a ``time.monotonic()`` value); the mean loss."""
    model.train()
    total_loss, total_items = 0.0, 0
    for images, targets in tqdm(loader, desc=description, leave=False, disable=not show_progress):
        if deadline is not None and total_items and time.monotonic() > deadline:
            break
        images, targets = images.to(device, non_blocking=True), targets.to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        with autocast_for(device):
            loss = criterion(model(images).float(), targets)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
        total_loss += float(loss.detach()) * len(targets)
        total_items += len(targets)
    return total_loss / max(total_items, 1)


@torch.no_grad()
def predict(
    model: nn.Module, loader: DataLoader, *, device: str, description: str = "predict", show_progress: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Logits (float32, N×C) and labels (N) for everything in ``loader``, in loader order."""
    model.eval()
    all_logits, all_labels = [], []
    for images, targets in tqdm(loader, desc=description, leave=False, disable=not show_progress):
        with autocast_for(device):
            logits = model(images.to(device, non_blocking=True))
        all_logits.append(logits.float().cpu())
        all_labels.append(targets)
    if not all_logits:
        return np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.int64)
    return torch.cat(all_logits).numpy(), torch.cat(all_labels).numpy()


def evaluate(
    model: nn.Module, loader: DataLoader, *, criterion: nn.Module, device: str, show_progress: bool = True
) -> dict[str, float]:
    """Validation loss (same weighted, smoothed criterion as training), macro-F1 and accuracy."""
    logits, labels = predict(model, loader, device=device, description="validate", show_progress=show_progress)
    if len(labels) == 0:
        return {"loss": float("nan"), "macro_f1": 0.0, "accuracy": 0.0}
    loss = float(criterion(torch.as_tensor(logits), torch.as_tensor(labels)))
    predictions = logits.argmax(axis=1)
    return {
        "loss": loss,
        "macro_f1": float(f1_score(labels, predictions, average="macro", zero_division=0)),
        "accuracy": float((predictions == labels).mean()),
    }


# --- early stopping and the fit loop ------------------------------------------------------------------------
@dataclass
class EarlyStopping:
    """Stop after ``patience`` consecutive epochs whose score does not beat the best so far."""

    patience: int
    best_score: float = -math.inf
    best_epoch: int = -1
    epochs_without_improvement: int = 0

    def step(self, score: float, epoch: int) -> bool:
        """Record an epoch's score; True when it is a new best."""
        if score > self.best_score:
            self.best_score, self.best_epoch, self.epochs_without_improvement = score, epoch, 0
            return True
        self.epochs_without_improvement += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.epochs_without_improvement >= self.patience


@dataclass
class FitResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_val_macro_f1: float = 0.0
    stopped_early: bool = False
    stopped_by_time_budget: bool = False
    resumed_from_epoch: int = 0


EpochCallback = Callable[[dict[str, float], int], None]


def _set_sampler_epoch(loader: DataLoader, epoch: int) -> None:
    sampler = getattr(loader, "sampler", None)
    if hasattr(sampler, "set_epoch"):
        sampler.set_epoch(epoch)


def fit(
    model: nn.Module,
    *,
    train_loader: DataLoader,
    val_loader: DataLoader,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    device: str,
    epochs: int,
    patience: int,
    grad_clip: float = 1.0,
    state_dir: Path | None = None,
    resume: bool = False,
    on_epoch: EpochCallback | None = None,
    show_progress: bool = True,
    time_budget_s: float | None = None,
    synchronize: bool = True,
) -> FitResult:
    """Train for up to ``epochs`` epochs with early stopping on validation macro-F1.

    On return ``model`` holds the best epoch's weights. With ``state_dir``, the last epoch's full state (weights,
    optimiser, history, early-stopping counters) is saved there after each epoch; ``resume`` continues from it.
    ``time_budget_s`` bounds the training time: the epoch running when it is spent is cut short, validated, and
    training ends there (single process; under DDP the budget is checked between epochs so ranks stay in step).
    ``synchronize=False`` trains on this process alone even inside a process group (rank 0's frozen-backbone head).
    """
    deadline = time.monotonic() + time_budget_s if time_budget_s else None
    collective = synchronize and is_distributed()
    rank = torch.distributed.get_rank() if collective else 0
    is_main = rank == 0
    scaler = torch.amp.GradScaler("cuda") if needs_grad_scaler(device) else None
    stopper = EarlyStopping(patience=patience)
    result = FitResult()
    best_state = copy.deepcopy(unwrap(model).state_dict())
    start_epoch = 1
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
    last_path = state_dir / LAST_STATE_FILE if state_dir else None
    best_path = state_dir / BEST_STATE_FILE if state_dir else None

    if resume and last_path is not None and last_path.is_file():
        state = torch.load(last_path, map_location="cpu", weights_only=False)
        unwrap(model).load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        stopper = EarlyStopping(**state["early_stopping"])
        result.history = state["history"]
        start_epoch = state["epoch"] + 1
        result.resumed_from_epoch = state["epoch"]
        if best_path is not None and best_path.is_file():
            best_state = torch.load(best_path, map_location="cpu", weights_only=True)
        if stopper.should_stop:
            start_epoch = epochs + 1  # the run had already stopped early; nothing left to do

    for epoch in range(start_epoch, epochs + 1):
        _set_sampler_epoch(train_loader, epoch)
        train_loss = train_one_epoch(
            model,
            train_loader,
            criterion=criterion,
            optimizer=optimizer,
            device=device,
            grad_clip=grad_clip,
            scaler=scaler,
            description=f"epoch {epoch}/{epochs}",
            show_progress=show_progress and is_main,
            deadline=None if collective else deadline,
        )
        stop = False
        out_of_time = False
        if is_main:
            scores = evaluate(
                unwrap(model), val_loader, criterion=criterion, device=device, show_progress=show_progress
            )
            record = {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": scores["loss"],
                "val_macro_f1": scores["macro_f1"],
                "val_accuracy": scores["accuracy"],
            }
            result.history.append(record)
            if stopper.step(scores["macro_f1"], epoch):
                best_state = copy.deepcopy(unwrap(model).state_dict())
                if best_path is not None:
                    torch.save(best_state, best_path)
            out_of_time = deadline is not None and time.monotonic() > deadline
            stop = stopper.should_stop or out_of_time
            if last_path is not None:
                torch.save(
                    {
                        "epoch": epoch,
                        "model": unwrap(model).state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scaler": scaler.state_dict() if scaler is not None else None,
                        "early_stopping": {
                            "patience": stopper.patience,
                            "best_score": stopper.best_score,
                            "best_epoch": stopper.best_epoch,
                            "epochs_without_improvement": stopper.epochs_without_improvement,
                        },
                        "history": result.history,
                    },
                    last_path,
                )
            if on_epoch is not None:
                on_epoch(record, epoch)
        if collective:
            stop, out_of_time = broadcast_from_main((stop, out_of_time))
        if stop:
            result.stopped_early = True
            result.stopped_by_time_budget = out_of_time
            break

    unwrap(model).load_state_dict(best_state)
    result.best_epoch = stopper.best_epoch
    result.best_val_macro_f1 = stopper.best_score if stopper.best_epoch > 0 else 0.0
    if collective:
        result.history = broadcast_from_main(result.history)
    return result
