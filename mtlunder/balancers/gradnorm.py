"""GradNorm (Chen et al., ICML 2018)."""
from typing import Sequence

import torch

from mtlunder.registry import BALANCERS
from .base import GradBalancer


@BALANCERS.register_module()
class GradNorm(GradBalancer):
    """Learn weights ``w`` that equalise ``||grad (w_i L_i)|| = w_i ||g_i||`` toward
    ``mean_j(w_j ||g_j||) r_i^alpha`` with ``r_i = (L_i / L_i(0)) / mean_j(L_j / L_j(0))``.

    Only the gradient norms are needed (``gram_suffices``): with ``grad_source='params'``
    they are norms over all shared parameters, with ``'repr'`` over the shared
    representation (the cheap variant). The update uses the current ``w``; then ``w`` takes
    one gradient step of the GradNorm L1 objective (own ``lr``, gradient normalised by the
    mean norm so the step does not depend on the gradients' scale) and is renormalised so
    the present tasks' weights sum to their count. ``w`` (``weights``) and the initial
    losses (``initial_losses``) are buffers changed by :meth:`update`, not by the model's optimiser.
    """

    grad_based = True
    gram_suffices = True

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params', alpha: float = 1.5,
                 lr: float = 0.025):
        super().__init__(tasks, grad_source)
        self.alpha = float(alpha)
        self.lr = float(lr)
        n = len(self.tasks)
        self.register_buffer('weights', torch.ones(n, dtype=torch.float64))
        self.register_buffer('initial_losses', torch.zeros(n, dtype=torch.float64))
        self.register_buffer('initial_seen', torch.zeros(n, dtype=torch.bool))

    def gram_weights(self, gram, losses):
        return self.weights[self.indices(list(losses))].clone().to(gram)

    def update(self, losses, gram=None, grads=None):
        """First losses of each task, then one step of the weights (see the class)."""
        idx = self.indices(list(losses))
        values = self._stack(losses).detach().double().cpu()
        fresh = ~self.initial_seen[idx]
        if bool(fresh.any()):
            self.initial_losses[idx[fresh]] = values[fresh]
            self.initial_seen[idx[fresh]] = True
        w = self.weights[idx].clone()
        if len(idx) > 1:
            norms = gram.double().cpu().diagonal().clamp_min(0).sqrt()
            rate = values / self.initial_losses[idx].clamp_min(1e-12)
            rate = rate / rate.mean().clamp_min(1e-12)
            weighted = w * norms
            target = weighted.mean() * rate.pow(self.alpha)
            step = torch.sign(weighted - target) * norms / norms.mean().clamp_min(1e-30)
            new = (w - self.lr * step).clamp_min(1e-6)
            self.weights[idx] = new * len(idx) / new.sum()
