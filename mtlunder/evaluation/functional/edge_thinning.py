"""Morphological thinning of binary edge maps (MATLAB's ``bwmorph(bw, 'thin', Inf)``)."""
from typing import Tuple

import numpy as np


# Guo-Hall thinning lookup tables (the algorithm of MATLAB's bwmorph(..., 'thin', Inf) and
# skimage.morphology.thin). Neighbourhood code of a pixel: sum of the bits of its foreground
# neighbours, bit 0 = east, then counter-clockwise (1 NE, 2 N, 3 NW, 4 W, 5 SW, 6 S, 7 SE).
def _thin_luts() -> Tuple[np.ndarray, np.ndarray]:
    bits = (np.arange(256)[:, None] >> np.arange(8)[None]) & 1 == 1  # [256, 8]
    x = [bits[:, i % 8] for i in range(9)]  # x[i]: neighbour i (x[8] = x[0])
    g1 = sum((~x[i] & (x[i + 1] | x[i + 2])).astype(int) for i in (0, 2, 4, 6)) == 1
    n1 = sum((x[k - 1] | x[k]).astype(int) for k in (1, 3, 5, 7))
    n2 = sum((x[k] | x[k + 1]).astype(int) for k in (1, 3, 5, 7))
    g2 = np.isin(np.minimum(n1, n2), (2, 3))
    g3 = ~((x[1] | x[2] | ~x[7]) & x[0])
    g3p = ~((x[5] | x[6] | ~x[3]) & x[4])
    return g1 & g2 & g3, g1 & g2 & g3p


_THIN_LUTS = _thin_luts()
# (row offset, column offset) of the neighbour of each bit
_NEIGHBOURS = ((0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1))


def thin(mask: np.ndarray) -> np.ndarray:
    """Morphological thinning of a binary [H, W] map to one-pixel-wide, 8-connected curves.

    Guo and Hall's two-sub-iteration parallel algorithm (Comm. ACM 32(3), 1989; algorithm
    A1 of Lam, Lee and Suen 1992, p. 879), the one of MATLAB's ``bwmorph(bw, 'thin', Inf)``
    and of :func:`skimage.morphology.thin`, with the same lookup tables and order of
    sub-iterations; pixels outside the image count as background. Repeated until nothing
    changes. Vectorised numpy (scikit-image is not a dependency).
    """
    skel = np.pad(np.asarray(mask, dtype=bool), 1).astype(np.uint8)
    h, w = skel.shape[0] - 2, skel.shape[1] - 2
    count = int(skel.sum())
    while True:
        for lut in _THIN_LUTS:
            code = np.zeros((h, w), dtype=np.uint8)
            for bit, (dy, dx) in enumerate(_NEIGHBOURS):
                code |= skel[1 + dy:1 + dy + h, 1 + dx:1 + dx + w] << bit
            skel[1:-1, 1:-1][lut[code]] = 0
        new_count = int(skel.sum())
        if new_count == count:
            return skel[1:-1, 1:-1].astype(bool)
        count = new_count
