"""Batches that carry samples of every task, on every rank."""
import math
from typing import Dict, Iterator, List, Tuple

import torch
from mmengine.dataset import DefaultSampler
from torch.utils.data import BatchSampler

from mtlunder.registry import DATA_SAMPLERS

from ..seeding import SeededIndex, draw_seed


@DATA_SAMPLERS.register_module()
class TaskBalancedBatchSampler(BatchSampler):
    """Every batch holds at least one sample of each task group, on every rank.

    A task group is the set of samples labelled for the same tasks (data info ``tasks``),
    e.g. ``('det',)`` for a real detection set and ``('enh',)`` for enhancement pairs. The
    ``batch_size`` slots of a batch are shared in proportion to the groups' sizes (largest
    remainder), with at least ``min_per_group`` slots per group, so a loss-based balancer
    always has a loss graph of every task on every rank. The quota is fixed for the run
    (:attr:`quota`).

    Each group is shuffled on its own (seed ``sampler.seed + sampler.epoch``, the same on all
    ranks) and dealt out round robin: draw ``j`` of rank ``r`` is element
    ``(r + j * world_size) mod n_g`` of the group's permutation, so ranks draw disjoint
    samples until a small group has to repeat. An epoch has
    ``max(1, len(dataset) // (world_size * batch_size))`` batches on every rank, so every
    rank runs the same number of steps.

    The indices are :class:`~mtlunder.datasets.seeding.SeededIndex`: slot ``k`` of batch
    ``b`` (draw ``b * batch_size + k``) of rank ``r`` in epoch ``e`` carries
    ``draw_seed(seed, e, r, draw)``, so its augmentation follows the epoch (and a resume)
    and a repeated sample is augmented anew (see :mod:`mtlunder.datasets.seeding`).

    Args:
        sampler: mmengine's :class:`~mmengine.dataset.DefaultSampler`; its dataset, rank,
            world size, seed, shuffle flag and epoch (set by ``DistSamplerSeedHook``) are
            used, its own order is not.
        batch_size: samples per batch on one rank (the dataloader's ``batch_size``).
        drop_last: accepted for mmengine's signature; batches are always full.
        min_per_group: fewest slots of a group in a batch (default 1); 2 for heads whose
            BatchNorm sees only the labelled samples of their task (an ASPP image-pool
            branch normalises over them and fails on a single one).

    Raises:
        TypeError: ``sampler`` is not a ``DefaultSampler``.
        ValueError: a sample has no task, or ``batch_size`` is smaller than
            ``min_per_group`` times the number of task groups.
    """

    def __init__(self, sampler: DefaultSampler, batch_size: int, drop_last: bool = True,
                 min_per_group: int = 1):
        if not isinstance(sampler, DefaultSampler):
            raise TypeError('TaskBalancedBatchSampler needs sampler=dict(type='
                            f"'DefaultSampler'), got {type(sampler).__name__}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last
        self.min_per_group = int(min_per_group)
        if self.min_per_group < 1:
            raise ValueError(f'TaskBalancedBatchSampler: min_per_group must be >= 1, got '
                             f'{min_per_group}')
        dataset = sampler.dataset
        groups: Dict[Tuple[str, ...], List[int]] = {}
        for idx in range(len(dataset)):
            tasks = tuple(sorted(dataset.get_data_info(idx).get('tasks') or ()))
            if not tasks:
                raise ValueError(f'TaskBalancedBatchSampler: sample {idx} '
                                 f"({dataset.get_data_info(idx).get('img_path')}) has no "
                                 'task; every sample must be labelled for one')
            groups.setdefault(tasks, []).append(idx)
        self.groups = dict(sorted(groups.items()))
        if self.batch_size < self.min_per_group * len(self.groups):
            raise ValueError(f'TaskBalancedBatchSampler: batch_size {self.batch_size} is '
                             f'smaller than the {len(self.groups)} task groups '
                             f'{list(self.groups)} times min_per_group '
                             f'{self.min_per_group}; each batch needs that many of each')
        self.quota = self._quota()

    def _quota(self) -> Dict[Tuple[str, ...], int]:
        """Slots per batch of each group: ``batch_size * n_g / N`` rounded (largest
        remainder), at least ``min_per_group``."""
        sizes = {g: len(ids) for g, ids in self.groups.items()}
        total = sum(sizes.values())
        exact = {g: self.batch_size * n / total for g, n in sizes.items()}
        least = self.min_per_group
        quota = {g: max(least, math.floor(v)) for g, v in exact.items()}
        while sum(quota.values()) < self.batch_size:   # the largest remainder first
            quota[max(quota, key=lambda g: (exact[g] - quota[g], g))] += 1
        while sum(quota.values()) > self.batch_size:   # the most over-allocated first
            over = [g for g in quota if quota[g] > least]
            quota[max(over, key=lambda g: (quota[g] - exact[g], g))] -= 1
        return quota

    def __len__(self) -> int:
        world = self.sampler.world_size
        return max(1, len(self.sampler.dataset) // (world * self.batch_size))

    def __iter__(self) -> Iterator[List[SeededIndex]]:
        rank, world = self.sampler.rank, self.sampler.world_size
        seed, epoch = self.sampler.seed, self.sampler.epoch
        gen = torch.Generator().manual_seed(seed + epoch)
        streams = {}
        for group, ids in self.groups.items():
            order = (torch.randperm(len(ids), generator=gen).tolist()
                     if self.sampler.shuffle else list(range(len(ids))))
            streams[group] = [ids[i] for i in order]
        for b in range(len(self)):
            batch = []
            for group, count in self.quota.items():
                ids = streams[group]
                start = b * count
                batch.extend(ids[(rank + (start + k) * world) % len(ids)]
                             for k in range(count))
            yield [SeededIndex(idx, draw_seed(seed, epoch, rank, b * self.batch_size + k))
                   for k, idx in enumerate(batch)]
