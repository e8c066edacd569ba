"""One training run end to end, without Django: split → model → train → calibrate → evaluate → write outputs.

The run folder receives ``config.json`` (resolved), ``splits.json``, ``history.json``, ``metrics.json``, the PNG
pictures, ``model.pt`` (the checkpoint) and ``model.pt.sha256``. ``mltrain.db`` registers the result.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from mltrain.architectures import classifier_head, create_model, default_preprocessing, get_spec, reset_head
from mltrain.checkpoint import save_checkpoint
from mltrain.config import TrainConfig, resolve_config
from mltrain.data import (
    ImageDataset,
    Sample,
    class_counts,
    dataset_fingerprint,
    order_classes,
    read_artgan_split,
    split_artgan,
    split_stratified,
)
from mltrain.features import cached_features, features_cache_key
from mltrain.plots import write_report_plots
from mltrain.report import build_report
from mltrain.sampling import DistributedWeightedSampler, weighted_loss, weighted_sampler
from mltrain.train import FitResult, fit, init_distributed, predict, unwrap
from mltrain.transforms import decode_min_side, eval_transform, train_transform

CHECKPOINT_FILE = "model.pt"
ProgressCallback = Callable[[float, str], None]
LogCallback = Callable[[str], None]


@dataclass
class ExperimentResult:
    run_dir: Path
    architecture: str
    timm_name: str
    checkpoint_path: Path
    checkpoint_sha256: str
    classes: list[str]
    preprocessing: dict[str, Any]
    metrics: dict[str, Any]
    config: dict[str, Any]
    dataset_fingerprint: str
    splits: dict[str, list[str]] = field(default_factory=dict)
    wall_seconds: float = 0.0


def make_splits(samples: Sequence[Sample], config: TrainConfig, log: LogCallback) -> dict[str, list[Sample]]:
    if config.split == "artgan":
        if not config.artgan_dir:
            raise ValueError("--split artgan needs the folder with style_train.csv and style_val.csv (--artgan-dir)")
        splits, unlisted = split_artgan(samples, membership=read_artgan_split(config.artgan_dir))
        if unlisted:
            log(f"ArtGAN split: {unlisted} images are in neither ArtGAN list and are left out")
    else:
        splits = split_stratified(samples)
    for name in ("train", "val", "test"):
        if not splits[name]:
            raise ValueError(
                f"The {config.split} split leaves no {name} images ({len(samples)} labelled images in all); "
                "add images or use the other split"
            )
    return splits


def _loader(dataset, *, batch_size: int, num_workers: int, sampler=None, persistent: bool = False) -> DataLoader:
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        shuffle=False,
        num_workers=num_workers,
        persistent_workers=persistent and num_workers > 0,
        pin_memory=torch.cuda.is_available(),
    )


def run_experiment(
    config: TrainConfig,
    *,
    samples: Sequence[Sample],
    run_dir: str | Path,
    resume: bool = False,
    cache_dir: str | Path | None = None,
    progress: ProgressCallback | None = None,
    log: LogCallback | None = None,
    show_progress: bool = True,
) -> ExperimentResult | None:
    """Train, calibrate and evaluate one architecture on ``samples``; write everything into ``run_dir``.

    Under torchrun every rank calls this; only rank 0 writes outputs and returns a result (others return None).
    """
    started = time.monotonic()
    progress = progress or (lambda fraction, step: None)
    log = log or (lambda message: None)
    resolved = resolve_config(config)
    device = resolved.device
    spec = get_spec(resolved.architecture)
    run_dir = Path(run_dir)
    rank, world_size = init_distributed(device)
    is_main = rank == 0
    if resolved.freeze_backbone and world_size > 1 and not is_main:
        return None  # head-only training is a few seconds on one process: rank 0 does it alone
    torch.manual_seed(resolved.seed + rank)
    if is_main:
        run_dir.mkdir(parents=True, exist_ok=True)

    progress(0.0, "splitting data")
    splits = make_splits(samples, resolved, log)
    classes = order_classes(sample.label for sample in samples)
    preprocessing = default_preprocessing(resolved.architecture, input_size=resolved.input_size)
    counts = class_counts(splits["train"], classes)
    log(
        f"{resolved.architecture}: {len(classes)} classes, train {len(splits['train'])}, "
        f"val {len(splits['val'])}, test {len(splits['test'])} images; device {device}"
        + (f", {world_size} processes" if world_size > 1 else "")
    )
    if is_main:
        (run_dir / "config.json").write_text(json.dumps(resolved.to_dict(), indent=2))
        (run_dir / "splits.json").write_text(
            json.dumps({name: [sample.key for sample in items] for name, items in splits.items()}, indent=2)
        )

    progress(0.02, "building model")
    model = create_model(
        resolved.architecture, num_classes=len(classes), pretrained=resolved.pretrained, weights=resolved.weights
    )
    if resolved.pretrained or resolved.weights:
        reset_head(model)
    model = model.to(device)
    min_side = decode_min_side(preprocessing)
    evaluation = eval_transform(preprocessing)
    eval_sets = {
        name: ImageDataset(splits[name], classes=classes, transform=evaluation, min_side=min_side)
        for name in ("val", "test")
    }
    criterion = weighted_loss(counts, label_smoothing=resolved.label_smoothing).to(device)
    generator = torch.Generator().manual_seed(resolved.seed)
    epoch_span = (0.3, 0.9) if resolved.freeze_backbone else (0.05, 0.9)

    def on_epoch(record: dict[str, float], epoch: int) -> None:
        fraction = epoch_span[0] + (epoch_span[1] - epoch_span[0]) * epoch / resolved.epochs
        message = (
            f"epoch {epoch}/{resolved.epochs}: train loss {record['train_loss']:.4f}, "
            f"val loss {record['val_loss']:.4f}, val macro-F1 {record['val_macro_f1']:.4f}"
        )
        log(message)
        progress(min(fraction, epoch_span[1]), message)

    if resolved.time_budget_minutes:
        log(f"training time budget: {resolved.time_budget_minutes:g} min (then the best epoch so far is kept)")
    if resolved.freeze_backbone:
        result, val_logits, val_labels, test_logits, test_labels = _fit_frozen(
            model,
            resolved,
            splits=splits,
            classes=classes,
            preprocessing=preprocessing,
            eval_sets=eval_sets,
            counts=counts,
            criterion=criterion,
            generator=generator,
            run_dir=run_dir,
            resume=resume,
            cache_dir=Path(cache_dir) if cache_dir else None,
            progress=progress,
            log=log,
            on_epoch=on_epoch,
            show_progress=show_progress,
        )
    else:
        train_set = ImageDataset(
            splits["train"],
            classes=classes,
            transform=train_transform(preprocessing, family=spec.family),
            min_side=min_side,
        )
        if world_size > 1:
            sampler = DistributedWeightedSampler(
                train_set.targets, counts, rank=rank, world_size=world_size, seed=resolved.seed
            )
            trained_model: torch.nn.Module = torch.nn.parallel.DistributedDataParallel(model)
        else:
            sampler = weighted_sampler(train_set.targets, counts, generator=generator)
            trained_model = model
        train_loader = _loader(
            train_set,
            batch_size=resolved.batch_size,
            num_workers=resolved.num_workers,
            sampler=sampler,
            persistent=True,
        )
        val_loader = _loader(eval_sets["val"], batch_size=resolved.batch_size, num_workers=resolved.num_workers)
        optimizer = torch.optim.AdamW(model.parameters(), lr=resolved.lr, weight_decay=resolved.weight_decay)
        progress(epoch_span[0], "training")
        result = fit(
            trained_model,
            train_loader=train_loader,
            val_loader=val_loader,
            criterion=criterion,
            optimizer=optimizer,
            device=device,
            epochs=resolved.epochs,
            patience=resolved.patience,
            grad_clip=resolved.grad_clip,
            state_dir=run_dir if is_main else None,
            resume=resume,
            on_epoch=on_epoch,
            show_progress=show_progress,
            time_budget_s=resolved.time_budget_minutes * 60 if resolved.time_budget_minutes else None,
        )
        model = unwrap(trained_model)
        if not is_main:
            return None
        progress(0.9, "evaluating")
        val_logits, val_labels = predict(model, val_loader, device=device, show_progress=show_progress)
        test_loader = _loader(eval_sets["test"], batch_size=resolved.batch_size, num_workers=resolved.num_workers)
        test_logits, test_labels = predict(
            model, test_loader, device=device, description="test", show_progress=show_progress
        )

    report = build_report(
        test_logits=test_logits,
        test_labels=test_labels,
        classes=classes,
        val_logits=val_logits,
        val_labels=val_labels,
        review_precision=resolved.review_precision,
        bootstrap_samples=resolved.bootstrap_samples,
    )
    report.update(
        {
            "architecture": resolved.architecture,
            "best_epoch": result.best_epoch,
            "epochs_run": len(result.history),
            "stopped_early": result.stopped_early,
            "stopped_by_time_budget": result.stopped_by_time_budget,
            "resumed_from_epoch": result.resumed_from_epoch,
            "world_size": world_size,
        }
    )
    progress(0.95, "writing report")
    report["plots"] = write_report_plots(report, classes, result.history, run_dir)
    (run_dir / "history.json").write_text(json.dumps(result.history, indent=2))
    checkpoint_path = run_dir / CHECKPOINT_FILE
    sha256 = save_checkpoint(
        checkpoint_path,
        architecture=resolved.architecture,
        state_dict=model.state_dict(),
        classes=classes,
        preprocessing=preprocessing,
        temperature=report["temperature"],
        review_threshold=report["review_threshold"],
        timm_name=spec.timm_name,
        val_macro_f1=report["val_macro_f1"],
        test_macro_f1=report["macro_f1"],
    )
    (run_dir / f"{CHECKPOINT_FILE}.sha256").write_text(f"{sha256}  {CHECKPOINT_FILE}\n")
    report["checkpoint_sha256"] = sha256
    report["wall_seconds"] = round(time.monotonic() - started, 1)
    (run_dir / "metrics.json").write_text(json.dumps(report, indent=2))
    for leftover in ("last.pt", "best_state.pt"):
        (run_dir / leftover).unlink(missing_ok=True)  # the checkpoint holds the best weights now
    progress(1.0, "done")
    return ExperimentResult(
        run_dir=run_dir,
        architecture=resolved.architecture,
        timm_name=spec.timm_name,
        checkpoint_path=checkpoint_path,
        checkpoint_sha256=sha256,
        classes=classes,
        preprocessing=preprocessing,
        metrics=report,
        config=resolved.to_dict(),
        dataset_fingerprint=dataset_fingerprint(samples),
        splits={name: [sample.key for sample in items] for name, items in splits.items()},
        wall_seconds=report["wall_seconds"],
    )


def _fit_frozen(
    model: torch.nn.Module,
    config: TrainConfig,
    *,
    splits: dict[str, list[Sample]],
    classes: list[str],
    preprocessing: dict[str, Any],
    eval_sets: dict[str, ImageDataset],
    counts: list[int],
    criterion: torch.nn.Module,
    generator: torch.Generator,
    run_dir: Path,
    resume: bool,
    cache_dir: Path | None,
    progress: ProgressCallback,
    log: LogCallback,
    on_epoch: Callable[[dict[str, float], int], None],
    show_progress: bool,
) -> tuple[FitResult, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Head-only training on cached backbone features (evaluation transform, so no augmentation)."""
    device = config.device
    weights_source = config.weights or ("pretrained" if config.pretrained else "random")
    min_side = decode_min_side(preprocessing)
    feature_sets = {
        "train": ImageDataset(
            splits["train"], classes=classes, transform=eval_transform(preprocessing), min_side=min_side
        ),
        **eval_sets,
    }
    tensors: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for index, name in enumerate(("train", "val", "test")):
        progress(0.05 + 0.08 * index, f"backbone features ({name})")
        key = features_cache_key(
            architecture=config.architecture,
            weights_source=weights_source,
            preprocessing=preprocessing,
            samples=splits[name],
        )
        features, labels, from_cache = cached_features(
            model,
            feature_sets[name],
            cache_dir=cache_dir,
            cache_key=key,
            batch_size=config.batch_size,
            num_workers=config.num_workers,
            device=device,
            description=f"features {name}",
            show_progress=show_progress,
        )
        log(f"features {name}: {tuple(features.shape)}" + (" (cached)" if from_cache else ""))
        tensors[name] = (features, labels)

    for parameter in model.parameters():
        parameter.requires_grad_(False)
    head = classifier_head(model)
    for parameter in head.parameters():
        parameter.requires_grad_(True)
    train_features, train_labels = tensors["train"]
    sampler = weighted_sampler(train_labels.tolist(), counts, generator=generator)
    train_loader = DataLoader(
        TensorDataset(train_features, train_labels), batch_size=config.batch_size, sampler=sampler
    )
    val_loader = DataLoader(TensorDataset(*tensors["val"]), batch_size=256)
    optimizer = torch.optim.AdamW(head.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    progress(0.3, "training the head")
    result = fit(
        head,
        train_loader=train_loader,
        val_loader=val_loader,
        criterion=criterion,
        optimizer=optimizer,
        device=device,
        epochs=config.epochs,
        patience=config.patience,
        grad_clip=config.grad_clip,
        state_dir=run_dir,
        resume=resume,
        on_epoch=on_epoch,
        show_progress=False,  # epochs over cached features take milliseconds; one log line each is enough
        time_budget_s=config.time_budget_minutes * 60 if config.time_budget_minutes else None,
        synchronize=False,  # the other ranks have returned: rank 0 trains the head alone
    )
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    head.eval()
    with torch.no_grad():
        val_logits = head(tensors["val"][0].to(device)).float().cpu().numpy()
        test_logits = head(tensors["test"][0].to(device)).float().cpu().numpy()
    return result, val_logits, tensors["val"][1].numpy(), test_logits, tensors["test"][1].numpy()
