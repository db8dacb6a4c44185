"""Aligned-MTL (Senushkin et al., CVPR 2023): align the principal components of the
gradient matrix."""
from mtlunder.registry import BALANCERS
from . import linalg
from .base import BaseBalancer


def aligned_weights(gram):
    """Coefficients ``B 1`` with ``B = sqrt(lambda_min) V Sigma^-1/2 V^T`` from the
    eigendecomposition (deterministic Jacobi :func:`~mtlunder.balancers.linalg.eigh`;
    the old ``symeig`` is gone) of the Gram matrix ``G G^T`` ``[n, n]``;
    eigenvalues below ``lambda_max * n * eps`` are dropped (rank-deficient ``G``)."""
    import torch

    gram = gram.double()
    lam, vec = linalg.eigh(gram)
    tol = lam.max().clamp_min(0) * gram.shape[0] * torch.finfo(torch.float32).eps
    keep = lam > tol
    if not bool(keep.any()):
        return torch.zeros_like(lam)
    lam, vec = lam[keep], vec[:, keep]
    basis = lam.min().sqrt() * (vec * lam.rsqrt()[None, :]) @ vec.T
    return basis.sum(0)


@BALANCERS.register_module()
class AlignedMTL(BaseBalancer):
    """Update ``sum_i c_i g_i`` with ``c`` from :func:`aligned_weights`."""

    grad_based = True
    gram_suffices = True

    def gram_weights(self, gram, losses):
        return aligned_weights(gram)
