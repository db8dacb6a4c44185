"""Dynamic weight average (Liu et al., MTAN, CVPR 2019)."""
from typing import Sequence

import torch

from mtlunder.registry import BALANCERS
from .base import LossBalancer


@BALANCERS.register_module()
class DWA(LossBalancer):
    """``w_i = T softmax_i(r_i / tau)``, ``r_i = Lbar_i(e-1) / Lbar_i(e-2)``.

    ``Lbar`` are epoch averages of each task's loss, accumulated by training :meth:`combine`
    calls and closed by :meth:`epoch_end` (the ``BalancerHook`` calls it), which averages
    the running sums over ranks (all-reduce) so every rank has the same history. The first
    two epochs (and any task without a history) use uniform weights.

    Buffers: ``epoch`` (closed epochs), ``running`` (``[2, T]`` sum and count of the current
    epoch), ``history`` (``[2, T]`` averages of epochs ``e-2`` and ``e-1``).
    """

    def __init__(self, tasks: Sequence[str], temperature: float = 2.0):
        super().__init__(tasks)
        if temperature <= 0:
            raise ValueError(f'DWA temperature must be > 0, got {temperature}')
        self.temperature = float(temperature)
        n = len(self.tasks)
        self.register_buffer('epoch', torch.zeros((), dtype=torch.long))
        self.register_buffer('running', torch.zeros(2, n, dtype=torch.float64))
        self.register_buffer('history', torch.ones(2, n, dtype=torch.float64))

    def all_weights(self) -> torch.Tensor:
        """``[T]`` weights of the current epoch."""
        n = self.num_tasks
        if int(self.epoch) < 2:
            return torch.ones(n, dtype=torch.float64)
        ratio = self.history[1] / self.history[0].clamp_min(1e-12)
        return n * torch.softmax(ratio / self.temperature, 0)

    def weighted_loss(self, losses):
        values = self._stack(losses)
        w = self.all_weights()[self.indices(list(losses))].to(values)
        return (w * values).sum(), w

    def update(self, losses):
        """Add the losses to the running sums of the current epoch."""
        idx = self.indices(list(losses))
        self.running[0, idx] += self._stack(losses).detach().double().cpu()
        self.running[1, idx] += 1

    def epoch_end(self):
        import torch.distributed as dist
        from mmengine.dist import all_reduce

        running = self.running.clone()
        if dist.is_available() and dist.is_initialized():
            all_reduce(running, op='mean')
        seen = running[1] > 0
        avg = torch.where(seen, running[0] / running[1].clamp_min(1), self.history[1])
        self.history[0] = self.history[1]
        self.history[1] = avg
        if int(self.epoch) == 0:
            self.history[0] = avg
        self.running.zero_()
        self.epoch += 1
