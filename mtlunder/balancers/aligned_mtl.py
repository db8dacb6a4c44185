"""Aligned-MTL (Senushkin et al., CVPR 2023): align the principal components of the
gradient matrix."""
from typing import Optional, Sequence

from mtlunder.registry import BALANCERS
from . import linalg
from .base import GradBalancer


def aligned_weights(gram, eps: Optional[float] = None):
    """Coefficients ``B 1`` with ``B = sqrt(lambda_min) V Sigma^-1/2 V^T`` from the
    eigendecomposition (deterministic Jacobi :func:`~mtlunder.balancers.linalg.eigh`;
    the old ``symeig`` is gone) of the Gram matrix ``G G^T`` ``[n, n]``.

    Eigenvalues below ``lambda_max * n * eps`` are dropped (rank-deficient ``G``); ``eps``
    defaults to the machine epsilon of ``gram``'s dtype (float32: 1.19e-7, float64:
    2.22e-16).
    """
    import torch

    if eps is None:
        eps = torch.finfo(gram.dtype).eps
    gram = gram.double()
    lam, vec = linalg.eigh(gram)
    tol = lam.max().clamp_min(0) * gram.shape[0] * eps
    keep = lam > tol
    if not bool(keep.any()):
        return torch.zeros_like(lam)
    lam, vec = lam[keep], vec[:, keep]
    basis = lam.min().sqrt() * (vec * lam.rsqrt()[None, :]) @ vec.T
    return basis.sum(0)


@BALANCERS.register_module()
class AlignedMTL(GradBalancer):
    """Update ``sum_i c_i g_i`` with ``c`` from :func:`aligned_weights`.

    Args:
        eps: relative eigenvalue cut-off of :func:`aligned_weights`. The engine hands every
            balancer a float64 Gram matrix, but for a float32 model it is formed from
            float32 gradients, whose precision is what bounds the smallest meaningful
            eigenvalue; so ``None`` (default) means float32 epsilon. Set
            ``eps=2.220446049250313e-16`` for a float64 model.
    """

    grad_based = True
    gram_suffices = True

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params',
                 eps: Optional[float] = None):
        import torch

        super().__init__(tasks, grad_source)
        self.eps = float(torch.finfo(torch.float32).eps if eps is None else eps)

    def gram_weights(self, gram, losses):
        return aligned_weights(gram, self.eps)
