"""Balancers whose weights ignore the losses: equal/fixed weights (EW) and random (RLW)."""
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor

from mtlunder.registry import BALANCERS
from .base import LossBalancer, seeded_generator


@BALANCERS.register_module()
class EW(LossBalancer):
    """``L = sum_i w_i L_i`` with fixed weights (default all 1).

    Args:
        tasks: task names.
        weights: optional ``{task: weight}``; missing tasks get 1.
    """

    def __init__(self, tasks: Sequence[str], weights: Optional[Dict[str, float]] = None):
        super().__init__(tasks)
        weights = dict(weights or {})
        unknown = set(weights) - set(self.tasks)
        if unknown:
            raise KeyError(f'EW: weights given for unknown tasks {sorted(unknown)}; '
                           f'tasks are {self.tasks}')
        self.register_buffer(
            'weights', torch.tensor([float(weights.get(t, 1.0)) for t in self.tasks]))

    def weighted_loss(self, losses):
        values = self._stack(losses)
        w = self.weights[self.indices(list(losses))].to(values)
        return (w * values).sum(), w


@BALANCERS.register_module()
class RLW(LossBalancer):
    """Random loss weighting: ``w = softmax(N(0, I))`` drawn every step (weights sum to 1).

    The draw comes from a generator seeded with ``(seed, step)``, so every rank of a DDP run
    draws the same weights without communication and a resume continues the sequence.
    ``step`` is a buffer advanced by :meth:`update` (each training :meth:`combine`).
    """

    def __init__(self, tasks: Sequence[str], seed: int = 0):
        super().__init__(tasks)
        self.seed = int(seed)
        self.register_buffer('step', torch.zeros((), dtype=torch.long))

    def draw(self) -> Tensor:
        """``[T]`` weights of the current step over all tasks."""
        gen = seeded_generator(self.seed, int(self.step))
        return torch.softmax(torch.randn(self.num_tasks, generator=gen, dtype=torch.float64), 0)

    def weighted_loss(self, losses):
        values = self._stack(losses)
        w = self.draw()[self.indices(list(losses))].to(values)
        return (w * values).sum(), w

    def update(self, losses):
        self.step += 1
