"""Class-imbalance handling (SPEC): 1/sqrt(class count) weights for the sampler and the loss alike."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler, WeightedRandomSampler


def class_weights(counts: Sequence[int]) -> torch.Tensor:
    """1/sqrt(count) per class; a class with no training images gets weight 0 (it can never be a target)."""
    return torch.tensor([1 / math.sqrt(count) if count > 0 else 0.0 for count in counts], dtype=torch.float64)


def sample_weights(targets: Sequence[int], counts: Sequence[int]) -> torch.Tensor:
    """Each sample weighted by its class's 1/sqrt(count): class c is drawn with probability ∝ sqrt(count_c)."""
    weights = class_weights(counts)
    return weights[torch.as_tensor(list(targets), dtype=torch.long)]


def weighted_sampler(
    targets: Sequence[int], counts: Sequence[int], *, generator: torch.Generator | None = None
) -> WeightedRandomSampler:
    return WeightedRandomSampler(
        sample_weights(targets, counts), num_samples=len(targets), replacement=True, generator=generator
    )


def weighted_loss(counts: Sequence[int], *, label_smoothing: float = 0.1) -> torch.nn.CrossEntropyLoss:
    return torch.nn.CrossEntropyLoss(weight=class_weights(counts).float(), label_smoothing=label_smoothing)


class DistributedWeightedSampler(Sampler[int]):
    """The weighted sampler for DistributedDataParallel: every rank draws the same epoch-seeded weighted sequence
    and keeps its own interleaved share, so ranks see disjoint draws that together follow the same distribution."""

    def __init__(
        self, targets: Sequence[int], counts: Sequence[int], *, rank: int, world_size: int, seed: int = 0
    ) -> None:
        self.weights = sample_weights(targets, counts)
        self.rank = rank
        self.world_size = world_size
        self.seed = seed
        self.epoch = 0
        self.num_samples = math.ceil(len(targets) / world_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        draws = torch.multinomial(
            self.weights, self.num_samples * self.world_size, replacement=True, generator=generator
        )
        return iter(draws[self.rank :: self.world_size].tolist())

    def __len__(self) -> int:
        return self.num_samples
