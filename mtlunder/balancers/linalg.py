"""Tiny dense linear algebra (``T x T``, T = number of tasks) in plain Python floats.

LAPACK/MKL results for tiny matrices can differ in the last bit from call to call (their
workspaces' alignment changes), so two DDP ranks, or a balancer and its reloaded copy, could
derive different weights from identical Gram matrices. These routines are deterministic.
"""
import math
from typing import List

import torch
from torch import Tensor


def _rows(matrix: Tensor) -> List[List[float]]:
    return [[float(v) for v in row] for row in matrix.double().cpu().tolist()]


def solve(matrix: Tensor, rhs: Tensor) -> Tensor:
    """``x`` with ``matrix @ x = rhs`` (Gaussian elimination, partial pivoting).

    Raises:
        ValueError: the matrix is singular to working precision.
    """
    a = _rows(matrix)
    b = [float(v) for v in rhs.double().cpu().tolist()]
    n = len(a)
    scale = max((abs(v) for row in a for v in row), default=0.0)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) <= 1e-14 * scale or scale == 0.0:
            raise ValueError('singular matrix')
        a[col], a[pivot] = a[pivot], a[col]
        b[col], b[pivot] = b[pivot], b[col]
        for r in range(col + 1, n):
            f = a[r][col] / a[col][col]
            if f:
                for c in range(col, n):
                    a[r][c] -= f * a[col][c]
                b[r] -= f * b[col]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (b[r] - sum(a[r][c] * x[c] for c in range(r + 1, n))) / a[r][r]
    return torch.tensor(x, dtype=torch.float64)


def eigh(matrix: Tensor, sweeps: int = 100):
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix by cyclic
    Jacobi rotations."""
    a = _rows(matrix)
    n = len(a)
    v = [[float(i == j) for j in range(n)] for i in range(n)]
    for _ in range(sweeps):
        off = math.sqrt(sum(a[i][j] ** 2 for i in range(n) for j in range(n) if i != j))
        if off <= 1e-15 * math.sqrt(sum(a[i][i] ** 2 for i in range(n)) + 1e-300):
            break
        for p in range(n - 1):
            for q in range(p + 1, n):
                if a[p][q] == 0.0:
                    continue
                theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                t = math.copysign(1.0, theta) / (abs(theta) + math.sqrt(theta * theta + 1))
                c = 1 / math.sqrt(t * t + 1)
                s = t * c
                for k in range(n):
                    akp, akq = a[k][p], a[k][q]
                    a[k][p], a[k][q] = c * akp - s * akq, s * akp + c * akq
                for k in range(n):
                    apk, aqk = a[p][k], a[q][k]
                    a[p][k], a[q][k] = c * apk - s * aqk, s * apk + c * aqk
                for k in range(n):
                    vkp, vkq = v[k][p], v[k][q]
                    v[k][p], v[k][q] = c * vkp - s * vkq, s * vkp + c * vkq
    order = sorted(range(n), key=lambda i: a[i][i])
    values = torch.tensor([a[i][i] for i in order], dtype=torch.float64)
    vectors = torch.tensor([[v[k][i] for i in order] for k in range(n)], dtype=torch.float64)
    return values, vectors
