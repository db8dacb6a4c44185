"""PCGrad (Yu et al., NeurIPS 2020): project conflicting gradients."""
from typing import Sequence

import torch

from mtlunder.registry import BALANCERS
from .base import GradBalancer, seeded_generator


@BALANCERS.register_module()
class PCGrad(GradBalancer):
    """For each task ``i`` and each other task ``j`` in random order: if ``g_i' . g_j < 0``,
    ``g_i' -= (g_i' . g_j / ||g_j||^2) g_j``, always projecting onto the ORIGINAL ``g_j``;
    the update is the sum (``reduction='sum'``) or mean of the ``g_i'``.

    Each ``g_i'`` is tracked as coefficients over the original gradients, so only the Gram
    matrix is needed and the reported weights are the update's coefficients. The random
    orders come from a generator seeded by ``(seed, step)``: identical on every rank and
    across a resume (``step`` is a buffer, advanced by :meth:`update`).
    """

    grad_based = True
    gram_suffices = True

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params',
                 reduction: str = 'sum', seed: int = 0):
        super().__init__(tasks, grad_source)
        if reduction not in ('sum', 'mean'):
            raise ValueError(f"PCGrad reduction must be 'sum' or 'mean', got {reduction!r}")
        self.reduction = reduction
        self.seed = int(seed)
        self.register_buffer('step', torch.zeros((), dtype=torch.long))

    def projection_coeffs(self, gram):
        """``[n, n]`` matrix ``C`` with ``g_i' = sum_j C_ij g_j``."""
        n = gram.shape[0]
        gen = seeded_generator(self.seed, int(self.step))
        coeffs = torch.eye(n, dtype=gram.dtype)
        for i in range(n):
            for j in torch.randperm(n, generator=gen).tolist():
                if j == i or gram[j, j] <= 0:
                    continue
                dot = coeffs[i] @ gram[:, j]
                if dot < 0:
                    coeffs[i, j] -= dot / gram[j, j]
        return coeffs

    def gram_weights(self, gram, losses):
        coeffs = self.projection_coeffs(gram).sum(0)
        return coeffs / gram.shape[0] if self.reduction == 'mean' else coeffs

    def update(self, losses, gram=None, grads=None):
        """Advance ``step`` (the next call draws new orders)."""
        self.step += 1
