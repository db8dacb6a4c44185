"""Fast adaptive multitask optimization (FAMO, Liu et al., NeurIPS 2023)."""
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor

from mtlunder.registry import BALANCERS
from .base import LossBalancer


@BALANCERS.register_module()
class FAMO(LossBalancer):
    """``z = softmax(xi)``; ``L = sum_i z_i log(L_i - Lmin_i + eps) / c`` with
    ``c = sum_i z_i / (L_i - Lmin_i + eps)`` detached, i.e. task ``i``'s gradient weight is
    ``(z_i / (L_i - Lmin_i + eps)) / c`` (reported; sums to 1).

    After the optimiser step the engine evaluates the same batch again (one extra forward)
    and calls :meth:`post_step`: ``delta = log(L_old - Lmin + eps) - log(L_new - Lmin + eps)``
    and ``xi`` takes one Adam step (``lr``, L2 ``weight_decay``) along
    ``d softmax(xi)^T delta``. The logits and the Adam moments are buffers (the model's
    optimiser does not touch them), so a resume continues exactly.
    """

    needs_post_step_losses = True

    def __init__(self, tasks: Sequence[str], lr: float = 0.025, weight_decay: float = 1e-3,
                 min_losses: Optional[Dict[str, float]] = None, eps: float = 1e-8,
                 betas=(0.9, 0.999), adam_eps: float = 1e-8):
        super().__init__(tasks)
        n = len(self.tasks)
        self.lr, self.weight_decay, self.eps = float(lr), float(weight_decay), float(eps)
        self.betas, self.adam_eps = tuple(float(b) for b in betas), float(adam_eps)
        mins = dict(min_losses or {})
        self.register_buffer('min_losses', torch.tensor(
            [float(mins.get(t, 0.0)) for t in self.tasks], dtype=torch.float64))
        self.register_buffer('logits', torch.zeros(n, dtype=torch.float64))
        self.register_buffer('exp_avg', torch.zeros(n, dtype=torch.float64))
        self.register_buffer('exp_avg_sq', torch.zeros(n, dtype=torch.float64))
        self.register_buffer('adam_step', torch.zeros((), dtype=torch.long))
        self.register_buffer('prev_losses', torch.zeros(n, dtype=torch.float64))
        self.register_buffer('prev_mask', torch.zeros(n, dtype=torch.bool))

    def _shifted(self, values: Tensor, idx: Tensor) -> Tensor:
        return values - self.min_losses[idx].to(values) + self.eps

    def weighted_loss(self, losses):
        values = self._stack(losses)
        idx = self.indices(list(losses))
        z = torch.softmax(self.logits[idx], 0).to(values)
        shifted = self._shifted(values, idx).clamp_min(self.eps)
        c = (z / shifted.detach()).sum()
        total = (z * shifted.log()).sum() / c
        return total, z / shifted.detach() / c

    def update(self, losses):
        """Keep the losses for :meth:`post_step`."""
        idx = self.indices(list(losses))
        self.prev_losses.zero_()
        self.prev_losses[idx] = self._stack(losses).detach().double().cpu()
        self.prev_mask.zero_()
        self.prev_mask[idx] = True

    def post_step(self, losses: Dict[str, Tensor]) -> None:
        idx = self.indices(list(losses))
        keep = self.prev_mask[idx]
        if not bool(keep.any()):
            return
        idx = idx[keep]
        new = self._stack(losses).detach().double().cpu()[keep]
        old = self.prev_losses[idx]
        delta = (self._shifted(old, idx).clamp_min(self.eps).log()
                 - self._shifted(new, idx).clamp_min(self.eps).log())
        logits = self.logits[idx].clone().requires_grad_(True)
        with torch.enable_grad():
            grad, = torch.autograd.grad(torch.softmax(logits, 0), logits, grad_outputs=delta)
        self._adam(idx, grad)
        self.prev_mask.zero_()

    def _adam(self, idx: Tensor, grad: Tensor) -> None:
        """One Adam step (L2 weight decay, bias correction) on ``logits[idx]``."""
        beta1, beta2 = self.betas
        self.adam_step += 1
        t = int(self.adam_step)
        grad = grad + self.weight_decay * self.logits[idx]
        self.exp_avg[idx] = beta1 * self.exp_avg[idx] + (1 - beta1) * grad
        self.exp_avg_sq[idx] = beta2 * self.exp_avg_sq[idx] + (1 - beta2) * grad * grad
        m_hat = self.exp_avg[idx] / (1 - beta1**t)
        v_hat = self.exp_avg_sq[idx] / (1 - beta2**t)
        self.logits[idx] = self.logits[idx] - self.lr * m_hat / (v_hat.sqrt() + self.adam_eps)
