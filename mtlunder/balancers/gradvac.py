"""GradVac (Wang et al., ICLR 2021): Gradient Vaccine, pairwise cosines pulled up to their
EMA targets."""
from typing import Sequence, Tuple

import torch
from torch import Tensor

from mtlunder.registry import BALANCERS
from .base import GradBalancer, seeded_generator


@BALANCERS.register_module()
class GradVac(GradBalancer):
    """Gradient Vaccine (Wang, Tsvetkov, Firat & Cao, "Gradient Vaccine: Investigating and
    Improving Multi-task Optimization in Massively Multilingual Models", ICLR 2021).

    For each task ``i`` and each other present task ``j`` in random order, with
    ``phi_ij = cos(g_i', g_j)`` (``g_i'``: ``g_i`` after the corrections of this call so far)
    and the EMA target ``phi_hat_ij``: if ``phi_ij < phi_hat_ij``::

        g_i' += g_j ||g_i'|| (phi_hat_ij sqrt(1 - phi_ij^2) - phi_ij sqrt(1 - phi_hat_ij^2))
                / (||g_j|| sqrt(1 - phi_hat_ij^2) + eps)

    which makes ``cos(g_i', g_j) = phi_hat_ij``. The update is ``sum_i g_i'``; :meth:`update`
    moves every present pair's target ``phi_hat_ij <- (1 - beta) phi_hat_ij + beta phi_ij``.

    Each ``g_i'`` is tracked as coefficients over the original gradients, so only the Gram
    matrix is needed (``grad_source='params'`` or ``'repr'``); the reported weights are the
    update's coefficients. Targets are the ``targets [T, T]`` buffer indexed by task (zeros
    at the start, as in LibMTL and TorchJD), so a partially labelled batch updates only the
    pairs it has and a resume continues them. The orders come from a generator seeded by
    ``(seed, step)``: ``torch.randperm(n - 1)`` over the other tasks, one per ``i`` in task
    order, as TorchJD 0.18's ``GradVacWeighting`` draws them from the global generator
    (same weights and targets for the same draws). LibMTL updates a target only when its
    correction fires; this follows the paper and TorchJD (every pair, every step). One
    group (the whole model), as LibMTL's default ``group_type=0``.

    Args:
        tasks: every task name.
        grad_source: ``'params'`` or ``'repr'``.
        beta: EMA rate of the targets in ``[0, 1]``; 0.5 as LibMTL and TorchJD.
        eps: added to the denominators of the cosine and of the correction.
        seed: seed of the per-step generator of the orders.
    """

    grad_based = True
    gram_suffices = True

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params', beta: float = 0.5,
                 eps: float = 1e-8, seed: int = 0):
        super().__init__(tasks, grad_source)
        if not 0 <= beta <= 1:
            raise ValueError(f'GradVac beta must be in [0, 1], got {beta}')
        if eps < 0:
            raise ValueError(f'GradVac eps must be non-negative, got {eps}')
        self.beta = float(beta)
        self.eps = float(eps)
        self.seed = int(seed)
        self.register_buffer('step', torch.zeros((), dtype=torch.long))
        self.register_buffer('targets', torch.zeros(self.num_tasks, self.num_tasks,
                                                    dtype=torch.float64))

    def vaccinate(self, gram: Tensor, tasks: Sequence[str]) -> Tuple[Tensor, Tensor]:
        """The corrections of one call; no side effects.

        Args:
            gram: ``[n, n]`` Gram matrix of ``tasks`` (the present ones), float64.
            tasks: the present tasks, in the order of ``gram``.

        Returns:
            ``(coeffs [n, n], cosines [n, n])``: ``g_i' = sum_k coeffs[i, k] g_k`` and the
            cosine ``phi_ij`` met at pair ``(i, j)`` (diagonal zero).
        """
        n = gram.shape[0]
        idx = self.indices(tasks)
        targets = self.targets.detach().cpu()[idx][:, idx].to(gram.dtype)
        norms = gram.diagonal().clamp_min(0).sqrt()
        gen = seeded_generator(self.seed, int(self.step))
        coeffs = torch.eye(n, dtype=gram.dtype)
        cosines = torch.zeros(n, n, dtype=gram.dtype)
        for i in range(n):
            dots = coeffs[i] @ gram                     # g_i' . g_k for every k
            others = [j for j in range(n) if j != i]
            for k in torch.randperm(n - 1, generator=gen).tolist():
                j = others[k]
                norm_i = (dots @ coeffs[i]).clamp_min(0).sqrt()
                denom = norm_i * norms[j] + self.eps
                phi = dots[j] / denom if denom > 0 else gram.new_zeros(())
                cosines[i, j] = phi
                target = targets[i, j]
                root_target = (1 - target ** 2).clamp_min(0).sqrt()
                scale = norms[j] * root_target + self.eps
                if phi < target and norms[j] > 0 and scale > 0:
                    weight = norm_i * (target * (1 - phi ** 2).clamp_min(0).sqrt()
                                       - phi * root_target) / scale
                    coeffs[i, j] += weight
                    dots = dots + weight * gram[j]
        return coeffs, cosines

    def gram_weights(self, gram, losses):
        return self.vaccinate(gram, list(losses))[0].sum(0)

    def update(self, losses, gram=None, grads=None):
        """Move the present pairs' targets toward this call's cosines; advance ``step``."""
        tasks = list(losses)
        _, cosines = self.vaccinate(gram, tasks)
        idx = self.indices(tasks)
        rows, cols = idx[:, None], idx[None, :]
        targets = self.targets.detach().cpu().clone()       # the diagonal stays zero
        targets[rows, cols] = (1 - self.beta) * targets[rows, cols] + self.beta * cosines
        self.targets.copy_(targets)
        self.step += 1

    def extra_repr(self) -> str:
        return f'tasks={self.tasks}, beta={self.beta}, seed={self.seed}'
