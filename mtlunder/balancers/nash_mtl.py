"""Nash-MTL (Navon et al., ICML 2022): the Nash bargaining solution."""
from typing import Sequence

import torch
from torch import Tensor

from mtlunder.registry import BALANCERS
from . import linalg
from .base import GradBalancer


def nash_weights(gram: Tensor, max_iter: int = 50, tol: float = 1e-10) -> Tensor:
    """``alpha > 0`` with ``alpha_i (G G^T alpha)_i = 1``, the bargaining condition of the
    paper, for ``gram = G G^T`` ``[n, n]``.

    For numerical range the equation is solved on ``K = gram / s``, ``s = ||gram||_F``:
    ``a_i (K a)_i = 1`` is the stationary point of the strictly convex
    ``f(a) = a^T K a / 2 - sum_i log a_i`` on ``a > 0`` (damped Newton; backtracking keeps
    ``a > 0`` and decreases ``f``). Then ``alpha = a / sqrt(s)`` undoes the normalisation,
    so the update ``d = G^T alpha`` satisfies ``alpha_i (g_i . d) = 1`` and does not change
    when ``G`` is scaled. Tasks with a zero gradient get ``alpha_i = 0``.
    """
    gram = gram.double()
    n = gram.shape[0]
    alpha = gram.new_zeros(n)
    live = gram.diagonal() > 1e-20 * gram.diagonal().max().clamp_min(1e-300)
    if not bool(live.any()):
        return alpha
    k = gram[live][:, live]
    norm = torch.linalg.matrix_norm(k)
    k = k / norm
    a = k.diagonal().rsqrt()

    def f(x):
        return 0.5 * x @ k @ x - x.log().sum()

    for _ in range(max_iter):
        grad = k @ a - 1 / a
        if grad.norm() < tol:
            break
        step = linalg.solve(k + torch.diag(a.pow(-2)), grad)
        t, f0 = 1.0, f(a)
        while t > 1e-10 and (bool((a - t * step <= 0).any())
                             or f(a - t * step) > f0 - 1e-4 * t * (grad @ step)):
            t *= 0.5
        a = a - t * step
    alpha[live] = a / norm.sqrt()
    return alpha


@BALANCERS.register_module()
class NashMTL(GradBalancer):
    """Update ``sum_i alpha_i g_i`` with ``alpha`` from :func:`nash_weights`, recomputed
    every ``update_every`` steps (or when the set of present tasks changes) and cached in the
    ``alpha`` buffer in between."""

    grad_based = True
    gram_suffices = True

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params',
                 update_every: int = 1, max_iter: int = 50):
        super().__init__(tasks, grad_source)
        if update_every < 1:
            raise ValueError(f'NashMTL update_every must be >= 1, got {update_every}')
        self.update_every = int(update_every)
        self.max_iter = int(max_iter)
        n = len(self.tasks)
        self.register_buffer('step', torch.zeros((), dtype=torch.long))
        self.register_buffer('alpha', torch.zeros(n, dtype=torch.float64))
        self.register_buffer('alpha_mask', torch.zeros(n, dtype=torch.bool))

    def _mask(self, idx: Tensor) -> Tensor:
        mask = torch.zeros_like(self.alpha_mask)
        mask[idx] = True
        return mask

    def _stale(self, mask: Tensor) -> bool:
        """Whether this step solves for new weights instead of using the cached ones."""
        return int(self.step) % self.update_every == 0 or not torch.equal(mask, self.alpha_mask)

    def gram_weights(self, gram, losses):
        idx = self.indices(list(losses))
        if self._stale(self._mask(idx)):
            alpha = torch.zeros_like(self.alpha)
            alpha[idx] = nash_weights(gram.cpu(), self.max_iter)
            return alpha[idx].to(gram)
        return self.alpha[idx].to(gram)

    def update(self, losses, gram=None, grads=None):
        """Refresh the cached ``alpha`` when stale (the solve of :meth:`gram_weights`, which
        is deterministic) and advance ``step``."""
        idx = self.indices(list(losses))
        mask = self._mask(idx)
        if self._stale(mask):
            self.alpha.zero_()
            self.alpha[idx] = nash_weights(gram.cpu(), self.max_iter)
            self.alpha_mask.copy_(mask)
        self.step += 1
