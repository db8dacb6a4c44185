"""MGDA and MGDA-UB (Sener & Koltun, NeurIPS 2018): the min-norm point of the convex hull
of the task gradients."""
from typing import Sequence

import torch
from torch import Tensor

from mtlunder.registry import BALANCERS
from . import linalg
from .base import GradBalancer


def min_norm_two(gram: Tensor) -> Tensor:
    """Closed form for two gradients: ``w = (gamma, 1 - gamma)`` with
    ``gamma = clamp((g2 - g1).g2 / ||g1 - g2||^2, 0, 1)``; ``gram`` is ``[2, 2]``."""
    denom = gram[0, 0] + gram[1, 1] - 2 * gram[0, 1]
    if denom <= 1e-20 * max(float(gram.diagonal().max()), 1e-300):
        gamma = gram.new_tensor(0.5)
    else:
        gamma = ((gram[1, 1] - gram[0, 1]) / denom).clamp(0.0, 1.0)
    return torch.stack([gamma, 1 - gamma])


def _active_set(gram: Tensor, w: Tensor, max_iter: int = 100) -> Tensor:
    """Primal active-set refinement of a feasible ``w``: exact KKT point of
    ``min w^T K w`` on the simplex (equality-constrained solves on the support, a ratio
    test when a weight would turn negative, and the most violated multiplier added)."""
    n = len(w)
    tol = 1e-12 * float(gram.diagonal().max().clamp_min(1e-300))
    support = set((w > 0).nonzero().flatten().tolist())
    for _ in range(max_iter):
        idx = sorted(support)
        k = len(idx)
        kkt = gram.new_zeros(k + 1, k + 1)
        kkt[:k, :k] = gram[idx][:, idx]
        kkt[:k, k] = 1
        kkt[k, :k] = 1
        rhs = gram.new_zeros(k + 1)
        rhs[k] = 1
        kkt[:k, :k] += tol * torch.eye(k, dtype=kkt.dtype)
        sol = linalg.solve(kkt, rhs)
        target = gram.new_zeros(n)
        target[idx] = sol[:k]
        if bool((target[idx] >= 0).all()):
            w = target / target.sum()
            grad = gram @ w
            value = w @ grad
            outside = [i for i in range(n) if i not in support and grad[i] < value - tol]
            if not outside:
                return w
            support.add(min(outside, key=lambda i: float(grad[i])))
        else:
            step = target - w
            ratios = [float(w[i] / -step[i]) for i in idx if step[i] < 0]
            w = (w + min(ratios + [1.0]) * step).clamp_min(0)
            w = w / w.sum()
            support = {i for i in idx if w[i] > 1e-15}
    return w


def min_norm_weights(gram: Tensor, max_iter: int = 250, tol: float = 1e-10) -> Tensor:
    """``argmin_{w in simplex} ||sum_i w_i g_i||^2`` from the Gram matrix ``[n, n]``.

    n = 1: ``[1]``; n = 2: :func:`min_norm_two`; n > 2: Frank-Wolfe from the best pair
    (exact line search), refined to the exact KKT point by an active-set method.
    """
    gram = gram.double()
    n = gram.shape[0]
    if n == 1:
        return gram.new_ones(1)
    if n == 2:
        return min_norm_two(gram)
    best, w = None, None
    for i in range(n):
        for j in range(i + 1, n):
            pair = min_norm_two(gram[[i, j]][:, [i, j]])
            cand = gram.new_zeros(n)
            cand[i], cand[j] = pair[0], pair[1]
            val = cand @ gram @ cand
            if best is None or val < best:
                best, w = val, cand
    for _ in range(max_iter):
        grad = gram @ w
        t = int(torch.argmin(grad))
        v_v, v_g, g_g = w @ grad, grad[t], gram[t, t]
        denom = v_v - 2 * v_g + g_g
        if denom <= 0:
            break
        gamma = ((v_v - v_g) / denom).clamp(0.0, 1.0)
        new = (1 - gamma) * w
        new[t] += gamma
        if (new - w).abs().sum() < tol:
            w = new
            break
        w = new
    return _active_set(gram, w)


@BALANCERS.register_module()
class MGDA(GradBalancer):
    """Update ``sum_i w_i g_i`` with ``w`` the min-norm point (``w`` sums to 1).

    Per-task gradients of the shared parameters (``grad_source='params'``, T extra
    backward passes) or of the shared representation (``'repr'``, MGDA-UB).
    """

    grad_based = True
    gram_suffices = True

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params',
                 max_iter: int = 250):
        super().__init__(tasks, grad_source)
        self.max_iter = int(max_iter)

    def gram_weights(self, gram, losses):
        return min_norm_weights(gram, self.max_iter)


@BALANCERS.register_module()
class MGDAUB(MGDA):
    """MGDA-UB: MGDA on gradients of the shared representation ``z`` (T cheap head
    backwards + one encoder backward of ``sum_i w_i dL_i/dz``)."""

    def __init__(self, tasks: Sequence[str], grad_source: str = 'repr', max_iter: int = 250):
        super().__init__(tasks, grad_source, max_iter)
