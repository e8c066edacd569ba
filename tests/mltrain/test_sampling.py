"""Imbalance handling: exact 1/sqrt(count) weights for the sampler and the loss."""

from __future__ import annotations

import math

import torch

from mltrain.sampling import DistributedWeightedSampler, class_weights, sample_weights, weighted_loss, weighted_sampler

COUNTS = [100, 25, 4, 0]


def test_class_weights_are_one_over_sqrt_count():
    assert class_weights(COUNTS).tolist() == [0.1, 0.2, 0.5, 0.0]


def test_sampler_weights_each_sample_by_its_class():
    targets = [0] * 100 + [1] * 25 + [2] * 4

    sampler = weighted_sampler(targets, COUNTS, generator=torch.Generator().manual_seed(0))

    assert sampler.weights.tolist() == [0.1] * 100 + [0.2] * 25 + [0.5] * 4
    assert sampler.num_samples == 129
    assert sampler.replacement is True
    # Class c is drawn with probability ∝ count × 1/sqrt(count) = sqrt(count): 10 : 5 : 2.
    per_class = [sum(sample_weights(targets, COUNTS)[torch.tensor(targets) == c]).item() for c in range(3)]
    assert [round(value, 6) for value in per_class] == [10.0, 5.0, 2.0]


def test_loss_uses_the_same_weights_and_label_smoothing():
    loss = weighted_loss(COUNTS)
    logits = torch.tensor([[2.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    targets = torch.tensor([0, 2])

    value = loss(logits, targets).item()

    assert loss.weight.tolist() == [0.10000000149011612, 0.20000000298023224, 0.5, 0.0]
    assert loss.label_smoothing == 0.1
    # Hand computation of PyTorch's weighted, label-smoothed cross-entropy: both the NLL and the smoothing term
    # are class-weighted and divided by the summed weights of the targets (0.1 + 0.5).
    weights = [0.1, 0.2, 0.5, 0.0]
    nll_part = (
        sum(
            -weights[t] * (row[t] - math.log(sum(math.exp(x) for x in row)))
            for row, t in zip(logits.tolist(), targets.tolist(), strict=True)
        )
        / 0.6
    )
    smooth_part = (
        sum(
            -sum(w * (v - math.log(sum(math.exp(x) for x in row))) for w, v in zip(weights, row, strict=True)) / 4
            for row in logits.tolist()
        )
        / 0.6
    )
    assert round(value, 6) == round(0.9 * nll_part + 0.1 * smooth_part, 6)


def test_distributed_sampler_ranks_draw_disjoint_halves_of_one_sequence():
    targets = [0] * 100 + [1] * 25 + [2] * 4
    rank0 = DistributedWeightedSampler(targets, COUNTS, rank=0, world_size=2, seed=5)
    rank1 = DistributedWeightedSampler(targets, COUNTS, rank=1, world_size=2, seed=5)
    rank0.set_epoch(3)
    rank1.set_epoch(3)

    generator = torch.Generator().manual_seed(8)
    full = torch.multinomial(sample_weights(targets, COUNTS), 130, replacement=True, generator=generator).tolist()

    assert len(rank0) == len(rank1) == 65
    assert list(rank0) == full[0::2]
    assert list(rank1) == full[1::2]
