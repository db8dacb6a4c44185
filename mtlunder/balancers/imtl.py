"""Impartial multi-task learning (IMTL, Liu et al., ICLR 2021): IMTL-G (gradient), IMTL-L
(loss scales) and their hybrid IMTL."""
from typing import Sequence

import torch
from torch import Tensor, nn

from mtlunder.registry import BALANCERS
from . import linalg
from .base import BaseBalancer, GradBalancer, LossBalancer


def imtl_g_weights(gram: Tensor) -> Tensor:
    """IMTL-G coefficients ``alpha [n]`` (sum 1) from the Gram matrix ``[n, n]``.

    With ``u_i = g_i / ||g_i||``, ``D = [g_1 - g_i]``, ``U = [u_1 - u_i]`` (``i >= 2``):
    ``alpha_{2:n} = g_1 U^T (D U^T)^-1`` and ``alpha_1 = 1 - sum alpha_{2:n}``; the update
    ``sum_i alpha_i g_i`` then has equal projections on every ``u_i``. A singular
    ``D U^T`` falls back to a ridge-regularised least-squares solution.
    """
    gram = gram.double()
    n = gram.shape[0]
    if n == 1:
        return gram.new_ones(1)
    norms = gram.diagonal().clamp_min(1e-30).sqrt()
    g1_u = gram[0] / norms                       # g_1 . u_j
    a = g1_u[0] - g1_u[1:]                       # g_1 . (u_1 - u_i)
    gi_u = gram / norms[None, :]                 # [i, j] = g_i . u_j
    du = (gi_u[0, 0] - gi_u[0, 1:])[None, :] - (gi_u[1:, 0][:, None] - gi_u[1:, 1:])
    try:
        rest = linalg.solve(du.T, a)
    except ValueError:                           # parallel gradients: ridge-regularised
        ridge = 1e-10 * float(du.abs().max().clamp_min(1e-300))
        rest = linalg.solve(du @ du.T + ridge * torch.eye(n - 1, dtype=du.dtype), du @ a)
    return torch.cat([1 - rest.sum()[None], rest])


class _LossScales(BaseBalancer):
    """Learned loss scales of IMTL-L: ``f_i(L_i) = L_i e^(s_i) - s_i``; ``scales`` ``[T]``
    is an ``nn.Parameter`` updated by the model's optimiser. Combined with
    :class:`LossBalancer` (IMTL-L) or :class:`GradBalancer` (IMTL)."""

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params'):
        super().__init__(tasks, grad_source)
        self.scales = nn.Parameter(torch.zeros(len(self.tasks)))

    def transform_losses(self, values, tasks):
        s = self.scales[self.indices(tasks).to(self.scales.device)].to(values)
        return values * s.exp() - s


@BALANCERS.register_module()
class IMTLL(_LossScales, LossBalancer):
    """IMTL-L alone (loss-based): ``L = sum_i (L_i e^(s_i) - s_i)``; weights ``e^(s_i)``."""

    def __init__(self, tasks: Sequence[str]):
        super().__init__(tasks)

    def weighted_loss(self, losses):
        values = self._stack(losses)
        total = self.transform_losses(values, list(losses)).sum()
        w = self.scales[self.indices(list(losses)).to(self.scales.device)].exp()
        return total, w


@BALANCERS.register_module()
class IMTLG(GradBalancer):
    """IMTL-G: update ``sum_i alpha_i g_i`` with :func:`imtl_g_weights`."""

    grad_based = True
    gram_suffices = True

    def gram_weights(self, gram, losses):
        return imtl_g_weights(gram)


@BALANCERS.register_module()
class IMTL(_LossScales, GradBalancer):
    """IMTL (hybrid): IMTL-G on the gradients of the IMTL-L scaled losses
    ``L_i e^(s_i) - s_i``."""

    grad_based = True
    gram_suffices = True

    def gram_weights(self, gram, losses):
        return imtl_g_weights(gram)
