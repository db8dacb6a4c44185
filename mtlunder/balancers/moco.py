"""MoCo (Fernando et al., ICLR 2023): multi-objective gradient correction by tracked
gradients."""
from typing import Dict, Sequence, Tuple

import torch
from torch import Tensor

from mtlunder.registry import BALANCERS
from .base import GradBalancer, combine_rows, gram_matrix


def project_simplex(values: Tensor) -> Tensor:
    """Euclidean projection of ``values [n]`` onto ``{w >= 0, sum w = 1}`` (sort-based,
    Duchi et al., ICML 2008)."""
    ordered = values.sort(descending=True).values
    excess = ordered.cumsum(0) - 1
    ranks = torch.arange(1, len(values) + 1, dtype=values.dtype)
    count = int((ordered - excess / ranks > 0).sum())
    return (values - excess[count - 1] / count).clamp_min(0)


@BALANCERS.register_module()
class MoCo(GradBalancer):
    """MoCo (Fernando, Shen, Liu, Chaudhury, Murugesan & Chen, "Mitigating Gradient Bias in
    Multi-objective Learning: A Provably Convergent Approach", ICLR 2023), Algorithm 1.

    Step ``t`` (from 1), present tasks, ``beta_t = beta / t^beta_sigma``,
    ``gamma_t = gamma / t^gamma_sigma``::

        y_i    <- y_i - beta_t (y_i - h_i)                          # tracked gradients
        lambda <- Proj_simplex(lambda - gamma_t (Y Y^T + rho I) lambda)
        update  = Y^T lambda

    with ``h_i = g_i`` (``normalize=False``, the paper) or ``h_i = L_i g_i / (||g_i|| + 1e-8)``
    (``normalize=True``, LibMTL's choice). ``y`` is the ``tracked [T, P]`` buffer (zeros,
    created at the first step, as LibMTL), ``lambda`` the ``lambdas [T]`` buffer (uniform
    at the start); the reported weights are ``lambda`` of the present tasks (coefficients of
    ``Y``, not of the raw gradients). With ``rho = 0`` and a constant Jacobian, ``lambda``
    tends to the min-norm (MGDA) weights. LibMTL replaces the projection by a softmax; this
    follows the paper.

    Partially labelled batches: absent tasks keep ``y_i`` and ``lambda_i``. The present
    tasks hold the share ``s = sum_present lambda_i``; the step above runs on their
    conditional weights ``lambda / s`` (uniform when ``s = 0``) over their own simplex, the
    update uses the result, and ``s`` times it is stored, so ``lambdas`` stays on the
    simplex over all tasks. With every task present this is exactly the rule above.
    Needs the full gradients (``grad_source='params'``).

    Args:
        tasks: every task name.
        grad_source: ``'params'`` only.
        beta: tracking rate in ``(0, 1]``; beta_sigma: its decay exponent (LibMTL: 0.5, 0.5).
        gamma: step size of ``lambda`` (> 0); gamma_sigma: its decay (LibMTL: 0.1, 0.5).
        rho: l2 regularisation of the ``lambda`` step (>= 0; LibMTL: 0).
        normalize: track ``L_i g_i / ||g_i||`` instead of ``g_i``.
    """

    grad_based = True
    sources = ('params',)
    lazy_buffers = ('tracked',)

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params', beta: float = 0.5,
                 beta_sigma: float = 0.5, gamma: float = 0.1, gamma_sigma: float = 0.5,
                 rho: float = 0.0, normalize: bool = False):
        super().__init__(tasks, grad_source)
        if not 0 < beta <= 1:
            raise ValueError(f'MoCo beta must be in (0, 1], got {beta}')
        if gamma <= 0:
            raise ValueError(f'MoCo gamma must be positive, got {gamma}')
        if min(beta_sigma, gamma_sigma, rho) < 0:
            raise ValueError('MoCo beta_sigma, gamma_sigma and rho must be non-negative, got '
                             f'{beta_sigma}, {gamma_sigma}, {rho}')
        self.beta, self.beta_sigma = float(beta), float(beta_sigma)
        self.gamma, self.gamma_sigma = float(gamma), float(gamma_sigma)
        self.rho = float(rho)
        self.normalize = bool(normalize)
        self.register_buffer('step', torch.zeros((), dtype=torch.long))
        self.register_buffer('tracked', torch.zeros(0))
        self.register_buffer('lambdas', torch.full((self.num_tasks, ), 1.0 / self.num_tasks,
                                                   dtype=torch.float64))

    def targets(self, grads: Tensor, losses: Dict[str, Tensor]) -> Tensor:
        """``h [n, P]``: the gradients, or ``L_i g_i / (||g_i|| + 1e-8)`` (``normalize``)."""
        if not self.normalize:
            return grads
        values = torch.stack([v.detach().reshape(()) for v in losses.values()]).to(grads)
        return grads * (values / (grads.norm(dim=1) + 1e-8))[:, None]

    def moving_average(self, grads: Tensor, idx: Tensor) -> Tensor:
        """``[n, P]`` tracked gradients of the present tasks ``idx`` after this step's
        ``grads`` (the ``h`` of :meth:`targets`); no side effects (a buffer not created yet
        counts as zeros)."""
        rate = self.beta / float(int(self.step) + 1) ** self.beta_sigma
        if self.tracked.shape != (self.num_tasks, grads.shape[1]):
            if self.tracked.numel():
                raise ValueError(f'MoCo: gradient length {grads.shape[1]} does not match the '
                                 f'tracked buffer {tuple(self.tracked.shape)}')
            return rate * grads
        previous = self.tracked[idx.to(self.tracked.device)]
        return previous - rate * (previous - grads)

    def lambda_step(self, tracked: Tensor, idx: Tensor) -> Tuple[Tensor, float]:
        """``(weights [n], s)``: the present tasks' ``lambda`` after one projected step on
        their simplex, from the tracked gradients ``[n, P]``, and their share ``s`` of the
        stored ``lambdas``; no side effects."""
        current = self.lambdas.detach().cpu()[idx]
        share = float(current.sum())
        start = current / share if share > 0 else torch.full_like(current, 1.0 / len(idx))
        rate = self.gamma / float(int(self.step) + 1) ** self.gamma_sigma
        grad = gram_matrix(tracked) @ start + self.rho * start
        return project_simplex(start - rate * grad), share

    def update(self, losses, gram=None, grads=None):
        """Store the present tasks' tracked gradients and ``lambda``; advance ``step``."""
        idx = self.indices(list(losses))
        tracked = self.moving_average(self.targets(grads, losses), idx)
        weights, share = self.lambda_step(tracked, idx)
        if self.tracked.shape != (self.num_tasks, grads.shape[1]):
            self.tracked = grads.new_zeros(self.num_tasks, grads.shape[1])
        self.tracked[idx.to(self.tracked.device)] = tracked
        lambdas = self.lambdas.detach().cpu().clone()
        lambdas[idx] = share * weights
        self.lambdas.copy_(lambdas)
        self.step += 1

    def aggregate(self, grads, losses):
        idx = self.indices(list(losses))
        tracked = self.moving_average(self.targets(grads, losses), idx)
        weights, _ = self.lambda_step(tracked, idx)
        return combine_rows(weights, tracked), weights

    def extra_repr(self) -> str:
        return (f'tasks={self.tasks}, beta={self.beta}, gamma={self.gamma}, rho={self.rho}, '
                f'normalize={self.normalize}')
