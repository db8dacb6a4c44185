"""Conflict-averse gradient descent (CAGrad, Liu et al., NeurIPS 2021)."""
import math
from typing import Sequence

import torch

from mtlunder.registry import BALANCERS
from .base import GradBalancer


@BALANCERS.register_module()
class CAGrad(GradBalancer):
    """``gbar = mean_i g_i``; ``w = argmin_{w in simplex} w^T G gbar + sqrt(phi) ||G^T w||``
    with ``phi = c^2 ||gbar||^2``; update ``(gbar + sqrt(phi) G^T w / ||G^T w||) / (1 + c^2)``
    (``rescale=True``). ``c = 0`` is the mean gradient. The ``T``-dimensional problem is
    solved with scipy's SLSQP from the Gram matrix.
    """

    grad_based = True
    gram_suffices = True

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params', c: float = 0.5,
                 rescale: bool = True):
        super().__init__(tasks, grad_source)
        if c < 0:
            raise ValueError(f'CAGrad c must be >= 0, got {c}')
        self.c = float(c)
        self.rescale = bool(rescale)

    def gram_weights(self, gram, losses):
        import numpy as np
        from scipy.optimize import minimize

        n = gram.shape[0]
        mean = torch.full((n,), 1.0 / n, dtype=torch.float64)
        gram_np = gram.double().cpu().numpy()
        radius = self.c * math.sqrt(max(float(mean @ gram.double().cpu() @ mean), 0.0))
        if radius <= 0:
            return mean
        gb = gram_np @ mean.numpy()

        def objective(w):
            return float(w @ gb + radius * np.sqrt(max(w @ gram_np @ w, 0.0) + 1e-16))

        res = minimize(objective, mean.numpy(), method='SLSQP', bounds=[(0, 1)] * n,
                       constraints=dict(type='eq', fun=lambda w: w.sum() - 1))
        w = torch.from_numpy(np.clip(res.x, 0, None))
        gw_norm = math.sqrt(max(float(w @ gram.double().cpu() @ w), 0.0))
        coeffs = mean + radius / (gw_norm + 1e-12) * w
        if self.rescale:
            coeffs = coeffs / (1 + self.c**2)
        return coeffs.to(gram)
