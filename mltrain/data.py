"""Labelled images for training: a WikiArt folder tree and/or database records, the splits, the torch Dataset.

A labelled image is a :class:`Sample` (path, style code, a stable key). Where the same image bytes come from both
the folder and the database, the database's human-verified label wins over the folder's dataset label.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch.utils.data import Dataset

from curation.styles import ARTGAN_ALIASES, STYLE_CODES
from mltrain.imaging import open_rgb
from mltrain.transforms import ImageTransform

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
SPLIT_RANDOM_STATE = 123
# SPEC: stratified train/val/test 72% / 12.75% / 15.25%.
VAL_FRACTION = 0.1275
TEST_FRACTION = 0.1525


@dataclass(frozen=True)
class Sample:
    path: str
    label: str  # style code, e.g. "Post_Impressionism"
    key: str  # stable identity: "Style/file.jpg" for folders, "artwork:<id>" for database records
    sha256: str = field(default="", compare=False)


def canonical_style(code: str) -> str:
    return ARTGAN_ALIASES.get(code, code)


def order_classes(codes: Iterable[str]) -> list[str]:
    """Known styles in ArtGAN class-id order, then any others alphabetically."""
    present = set(codes)
    known = [code for code in STYLE_CODES if code in present]
    return known + sorted(present - set(STYLE_CODES))


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def samples_from_folder(root: str | Path, *, with_sha256: bool = False) -> list[Sample]:
    """Every image under ``root/<Style>/``; files directly under ``root`` (labels.csv, …) are ignored."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Data folder {root} does not exist")
    samples = []
    for style_dir in sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")):
        label = canonical_style(style_dir.name)
        for image_path in sorted(style_dir.iterdir()):
            if image_path.suffix.lower() not in IMAGE_SUFFIXES or image_path.name.startswith("."):
                continue
            samples.append(
                Sample(
                    path=str(image_path),
                    label=label,
                    key=f"{style_dir.name}/{image_path.name}",
                    sha256=file_sha256(image_path) if with_sha256 else "",
                )
            )
    if not samples:
        raise ValueError(f"No images found under {root}/<Style>/ (expected one folder per style)")
    return samples


def merge_samples(folder: Sequence[Sample], database: Sequence[Sample]) -> list[Sample]:
    """Union of both sources; an image present in both (same sha256) keeps the database's verified label."""
    by_hash = {sample.sha256: sample for sample in database if sample.sha256}
    merged = [sample for sample in folder if not sample.sha256 or sample.sha256 not in by_hash]
    return merged + list(database)


def dataset_fingerprint(samples: Iterable[Sample]) -> str:
    """sha256 over the sorted (key, label) pairs: the same data gives the same fingerprint."""
    digest = hashlib.sha256()
    for key, label in sorted((sample.key, sample.label) for sample in samples):
        digest.update(f"{key}\t{label}\n".encode())
    return digest.hexdigest()


def _round_half_up(value: float) -> int:
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _stratified_take(
    indices: list[int], labels: list[str], *, fraction: float, random_state: int
) -> tuple[list[int], list[int]]:
    """scikit-learn's stratified ``train_test_split`` of ``indices``; classes with a single member stay in the
    first part (stratification needs two). Returns (kept, taken), each sorted."""
    counts = Counter(labels[index] for index in indices)
    eligible = [index for index in indices if counts[labels[index]] >= 2]
    singles = [index for index in indices if counts[labels[index]] < 2]
    n_classes = len({labels[index] for index in eligible})
    # scikit-learn needs at least one item per class on both sides; tiny datasets take that many (the fix-ups in
    # split_stratified then cover whatever stratification could not).
    n_take = max(math.ceil(fraction * len(eligible)), n_classes)
    if len(eligible) - n_take < n_classes:
        return indices, []
    kept, taken = train_test_split(
        eligible,
        test_size=n_take,
        stratify=[labels[index] for index in eligible],
        random_state=random_state,
    )
    return sorted(kept + singles), sorted(taken)


def split_stratified(samples: Sequence[Sample], *, random_state: int = SPLIT_RANDOM_STATE) -> dict[str, list[Sample]]:
    """The recipe's stratified 72 / 12.75 / 15.25 split (scikit-learn ``train_test_split``, ``random_state=123``).

    Samples are ordered by key first, so the split depends only on the set of images. Test (15.25 %) is taken
    first, then validation (12.75 % of the whole) from the rest. Tiny classes: stratified rounding can leave a
    class of 3 or 4 images without a validation or test image; one is then moved there from training, so every
    class with at least 3 images appears in all three splits (a class of 2 gets train + test, of 1 train only).
    """
    ordered = sorted(samples, key=lambda sample: sample.key)
    labels = [sample.label for sample in ordered]
    rest, test = _stratified_take(list(range(len(ordered))), labels, fraction=TEST_FRACTION, random_state=random_state)
    train, val = _stratified_take(rest, labels, fraction=VAL_FRACTION / (1 - TEST_FRACTION), random_state=random_state)
    parts = {"train": train, "val": val, "test": test}
    class_sizes = Counter(labels)
    for label in order_classes(labels):
        for name, minimum_size in (("test", 2), ("val", 3)):
            has_one = any(labels[index] == label for index in parts[name])
            donors = [index for index in parts["train"] if labels[index] == label]
            if not has_one and class_sizes[label] >= minimum_size and len(donors) >= 2:
                parts["train"].remove(donors[0])
                parts[name].append(donors[0])
    return {name: [ordered[index] for index in sorted(indices)] for name, indices in parts.items()}


def _artgan_key(relative: str) -> str:
    style, _, filename = relative.strip().replace("\\", "/").partition("/")
    return f"{canonical_style(style)}/{filename}"


def read_artgan_split(split_dir: str | Path) -> dict[str, str]:
    """Map "Style/file.jpg" → "train" | "val" from ArtGAN's style_train.csv / style_val.csv (CRLF, no header)."""
    split_dir = Path(split_dir)
    membership: dict[str, str] = {}
    for split in ("train", "val"):
        csv_path = split_dir / f"style_{split}.csv"
        if not csv_path.is_file():
            raise FileNotFoundError(f"ArtGAN split file {csv_path} not found")
        with open(csv_path, newline="") as handle:
            for row in csv.reader(handle):
                if row:
                    membership[_artgan_key(row[0])] = split
    return membership


def _sample_artgan_key(sample: Sample) -> str:
    style, _, filename = sample.key.partition("/")
    # Collected copies are named "<source>__<original name>"; ArtGAN lists the original name.
    original = filename.split("__", 1)[1] if "__" in filename else filename
    return f"{canonical_style(style)}/{original}"


def split_artgan(
    samples: Sequence[Sample], *, membership: dict[str, str], random_state: int = SPLIT_RANDOM_STATE
) -> tuple[dict[str, list[Sample]], int]:
    """ArtGAN's official split: its val list is our test set; validation is a stratified share of its train list.

    Returns the splits and the number of samples listed in neither file (left out).
    """
    train_pool, test, unlisted = [], [], 0
    for sample in samples:
        split = membership.get(_sample_artgan_key(sample))
        if split == "train":
            train_pool.append(sample)
        elif split == "val":
            test.append(sample)
        else:
            unlisted += 1
    # Carve validation from ArtGAN train in the recipe's val : train proportion (12.75 : 72).
    by_class: dict[str, list[Sample]] = defaultdict(list)
    for sample in train_pool:
        by_class[sample.label].append(sample)
    rng = np.random.RandomState(random_state)
    val_share = VAL_FRACTION / (1 - TEST_FRACTION)
    splits: dict[str, list[Sample]] = {"train": [], "val": [], "test": sorted(test, key=lambda s: s.key)}
    for label in order_classes(by_class):
        members = sorted(by_class[label], key=lambda sample: sample.key)
        shuffled = [members[index] for index in rng.permutation(len(members))]
        val = max(1, _round_half_up(len(members) * val_share)) if len(members) >= 2 else 0
        splits["val"] += shuffled[:val]
        splits["train"] += shuffled[val:]
    return splits, unlisted


def class_counts(samples: Iterable[Sample], classes: Sequence[str]) -> list[int]:
    counts = Counter(sample.label for sample in samples)
    return [counts.get(code, 0) for code in classes]


class ImageDataset(Dataset):
    """Decodes each sample at reduced JPEG scale and applies ``transform``; yields (tensor, class index)."""

    def __init__(
        self, samples: Sequence[Sample], *, classes: Sequence[str], transform: ImageTransform, min_side: int
    ) -> None:
        self.samples = list(samples)
        self.class_index = {code: index for index, code in enumerate(classes)}
        self.transform = transform
        self.min_side = min_side

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        sample = self.samples[index]
        try:
            image = open_rgb(sample.path, min_side=self.min_side)
        except Exception as exc:
            raise ValueError(f"Cannot decode training image {sample.path}: {exc}") from exc
        return self.transform(image), self.class_index[sample.label]

    @property
    def targets(self) -> list[int]:
        return [self.class_index[sample.label] for sample in self.samples]
