"""DB-MTL (Lin et al., 2023): dual-balancing of loss scales and gradient magnitudes."""
from typing import Sequence

import torch
from torch import Tensor

from mtlunder.registry import BALANCERS
from .base import GradBalancer, combine_rows


@BALANCERS.register_module()
class DBMTL(GradBalancer):
    """Gradients of ``log(L_i + eps)``, an EMA per task ``m_i <- beta m_i + (1 - beta) g_i``
    (buffer ``grad_ema [T, P]``, created at the first step), each rescaled to the largest
    norm: update ``sum_i (max_j ||m_j|| / ||m_i||) m_i``. Reported weights are those scales.
    Needs full gradients of the shared parameters.
    """

    grad_based = True
    sources = ('params',)
    lazy_buffers = ('grad_ema',)

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params', beta: float = 0.9,
                 eps: float = 1e-8):
        super().__init__(tasks, grad_source)
        if not 0 <= beta < 1:
            raise ValueError(f'DBMTL beta must be in [0, 1), got {beta}')
        self.beta = float(beta)
        self.eps = float(eps)
        self.register_buffer('grad_ema', torch.zeros(0))

    def transform_losses(self, values, tasks):
        return (values + self.eps).log()

    def moving_average(self, grads: Tensor, idx: Tensor) -> Tensor:
        """``[n, P]`` EMA of the present tasks ``idx`` after this step's ``grads``; no side
        effects (an EMA not created yet counts as zeros)."""
        if self.grad_ema.shape != (self.num_tasks, grads.shape[1]):
            if self.grad_ema.numel():
                raise ValueError(f'DBMTL: gradient length {grads.shape[1]} does not match '
                                 f'the EMA buffer {tuple(self.grad_ema.shape)}')
            return self.beta * grads.new_zeros(grads.shape) + (1 - self.beta) * grads
        return self.beta * self.grad_ema[idx] + (1 - self.beta) * grads

    def update(self, losses, gram=None, grads=None):
        """Store the EMA of this step (created at the first one)."""
        idx = self.indices(list(losses)).to(grads.device)
        ema = self.moving_average(grads, idx)
        if self.grad_ema.shape != (self.num_tasks, grads.shape[1]):
            self.grad_ema = grads.new_zeros(self.num_tasks, grads.shape[1])
        self.grad_ema[idx] = ema

    def aggregate(self, grads, losses):
        ema = self.moving_average(grads, self.indices(list(losses)).to(grads.device))
        norms = ema.norm(dim=1)
        scales = norms.max() / (norms + 1e-12)
        return combine_rows(scales, ema), scales
