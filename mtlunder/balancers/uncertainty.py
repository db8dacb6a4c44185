"""Uncertainty weighting (Kendall et al., CVPR 2018)."""
from typing import Sequence

import torch
from torch import nn

from mtlunder.registry import BALANCERS
from .base import LossBalancer


@BALANCERS.register_module()
class UW(LossBalancer):
    """``L = sum_i L_i / (2 exp(s_i)) + s_i / 2`` with learned log-variances ``s_i``.

    ``log_vars`` (``[T]``) is an ``nn.Parameter`` of the model (the balancer is a submodule),
    so the model's optimiser updates it from the same backward pass.
    Reported weights are ``1 / (2 exp(s_i))``.
    """

    def __init__(self, tasks: Sequence[str], init: float = 0.0):
        super().__init__(tasks)
        self.log_vars = nn.Parameter(torch.full((len(self.tasks),), float(init)))

    def weighted_loss(self, losses):
        values = self._stack(losses)
        s = self.log_vars[self.indices(list(losses)).to(values.device)]
        w = 0.5 * torch.exp(-s)
        total = (w * values).sum() + 0.5 * s.sum()
        return total, w
