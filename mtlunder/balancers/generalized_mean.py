"""Geometric (GLS) and generalized-mean (GeMTL) loss combinations.

Both are computed in log space over the present tasks only, so an absent task never enters
the mean and a zero loss (floored at ``LOG_EPS``) never yields NaN.
"""
import math
from typing import Optional, Sequence

import torch
from torch import Tensor

from mtlunder.registry import BALANCERS
from .base import LOG_EPS, BaseBalancer, LossBalancer


def generalized_mean(values: Tensor, p: float, eps: float = 1e-6) -> Tensor:
    """``M_p(L) = ((1/n) sum_i L_i^p)^(1/p)`` of a ``[n]`` tensor of non-negative losses.

    ``|p| < eps`` gives the geometric mean ``exp(mean log L)``; ``p = +inf`` the max and
    ``p = -inf`` the min. Finite ``p`` uses ``exp((logsumexp(p log L) - log n) / p)`` which
    stays finite for large ``|p|``.
    """
    if p == math.inf:
        return values.max()
    if p == -math.inf:
        return values.min()
    logs = BaseBalancer._safe_log(values)
    if abs(p) < eps:
        return logs.mean().exp()
    return ((torch.logsumexp(p * logs, 0) - math.log(values.numel())) / p).exp()


def implicit_weights(values: Tensor, p: float, total: Tensor) -> Tensor:
    """``n dM_p/dL_i`` at ``values``: ``(L_i / M)^(p - 1)`` (1 for every task at ``p = 1``,
    ``M / L_i`` for the geometric mean, the arg-max/min indicator times ``n`` at ``p = +-inf``)."""
    if math.isinf(p):
        hit = values == total
        return hit.to(values) * values.numel() / hit.sum()
    ratio = values.clamp_min(LOG_EPS) / total.clamp_min(LOG_EPS)
    return ratio.pow(p - 1)


class _MeanBalancer(LossBalancer):
    """Shared ``weighted_loss`` of GLS and GeMTL; subclasses define ``power() -> float``."""

    def weighted_loss(self, losses):
        values = self._stack(losses)
        p = self.power()
        total = generalized_mean(values, p)
        weights = implicit_weights(values.detach(), p, total.detach())
        return total, weights


@BALANCERS.register_module()
class GLS(_MeanBalancer):
    """Geometric loss strategy: ``L = (prod_i L_i)^(1/n) = exp(mean_i log L_i)``.

    Task ``i``'s gradient is scaled by ``L / (n L_i)``; reported weights are ``L / L_i``.
    """

    def power(self) -> float:
        return 0.0


@BALANCERS.register_module()
class GeMTL(_MeanBalancer):
    """Generalized mean ``L = ((1/n) sum_i L_i^p)^(1/p)``, ``p`` fixed or linearly scheduled.

    ``p`` goes linearly from ``p_start`` to ``p_end`` over ``total_steps`` training calls of
    :meth:`combine` (then stays at ``p_end``); ``p_end=None`` keeps ``p = p_start``. The step
    count is the ``step`` buffer. ``p`` with ``|p| < eps`` is the geometric mean; ``p >=
    p_max`` is treated as ``+inf`` (max) and ``p <= -p_max`` as ``-inf`` (min).
    Reported weights are ``n dL/dL_i`` (proportional to ``L_i^(p-1)``).
    """

    def __init__(self, tasks: Sequence[str], p_start: float = 1.0,
                 p_end: Optional[float] = None, total_steps: int = 0,
                 eps: float = 1e-6, p_max: float = 1e3):
        super().__init__(tasks)
        if p_end is not None and total_steps <= 0:
            raise ValueError('GeMTL: a scheduled p (p_end given) needs total_steps > 0')
        self.p_start = float(p_start)
        self.p_end = self.p_start if p_end is None else float(p_end)
        self.total_steps = int(total_steps)
        self.eps = float(eps)
        self.p_max = float(p_max)
        self.register_buffer('step', torch.zeros((), dtype=torch.long))

    def power(self) -> float:
        if self.total_steps > 0:
            frac = min(int(self.step) / self.total_steps, 1.0)
            p = self.p_start + frac * (self.p_end - self.p_start)
        else:
            p = self.p_start
        if abs(p) < self.eps:
            return 0.0
        if abs(p) >= self.p_max:
            return math.copysign(math.inf, p)
        return p

    def update(self, losses):
        self.step += 1
