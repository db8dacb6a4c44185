"""Per-draw random state of the data pipeline: every draw of an epoch is augmented from its
own seed, so a run's augmentation depends on ``(seed, epoch, rank, draw)`` only, not on
which worker loads the sample or how long that worker has lived.

Why: mmengine seeds each data-loader worker once, from ``(seed, rank, worker)``. Persistent
workers then carry their random state from epoch to epoch, and a resumed run starts fresh
workers, so its first epoch replays the draws of epoch 1 instead of continuing. Here the
training samplers (:class:`~mtlunder.datasets.samplers.SeededSampler`,
:class:`~mtlunder.datasets.samplers.TaskBalancedBatchSampler`), which run in the main
process and follow the epoch, yield :class:`SeededIndex` values; the datasets
(:class:`SeededSampleMixin`) load each one with python ``random``, numpy's global
generator and torch's CPU generator seeded from it, the generators every mmcv, mmdet and
mtlunder transform draws from.
"""
import random
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch


class SeededIndex(int):
    """A dataset index that carries the seed of the sample's random draws.

    It is an ``int`` (batch samplers, ``get_data_info`` and slicing treat it as the index)
    and pickles with its seed, so it reaches data-loader workers through the index queue.

    Args:
        index (int): the dataset index.
        seed (int): the seed of the draw, in [0, 2**32).
    """

    seed: int

    def __new__(cls, index: int, seed: int) -> 'SeededIndex':
        obj = super().__new__(cls, index)
        obj.seed = int(seed)
        return obj

    def __reduce__(self):
        return SeededIndex, (int(self), self.seed)

    def __repr__(self) -> str:
        return f'SeededIndex({int(self)}, seed={self.seed})'


def draw_seed(seed: int, epoch: int, rank: int, draw: int) -> int:
    """The seed of draw ``draw`` (0-based position in the rank's epoch) of rank ``rank`` in
    epoch ``epoch`` of a run seeded with ``seed`` (all >= 0): a 32-bit hash by numpy's
    ``SeedSequence``, so neighbouring draws get unrelated streams."""
    return int(np.random.SeedSequence([seed, epoch, rank, draw]).generate_state(1)[0])


@contextmanager
def seeded_rngs(seed: int) -> Iterator[None]:
    """Run the body with python ``random``, numpy's global generator and torch's CPU
    generator seeded from ``seed``; their previous states are restored afterwards, so the
    caller's random streams (the training loop's, with ``num_workers=0``) are untouched."""
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


class SeededSampleMixin:
    """``dataset[SeededIndex(i, s)]`` loads sample ``i`` under :func:`seeded_rngs` ``(s)``;
    a plain ``int`` index loads it with whatever random state the process has (mmengine's
    worker seeding; evaluation pipelines draw nothing). Put it first among the bases."""

    def __getitem__(self, idx):
        if not isinstance(idx, SeededIndex):
            return super().__getitem__(idx)
        with seeded_rngs(idx.seed):
            return super().__getitem__(int(idx))
