"""Procedural noise fields (value noise and fractal Brownian motion) for textures."""
from typing import Tuple

import cv2
import numpy as np


def value_noise(rng: np.random.Generator, shape: Tuple[int, int], cells: float) -> np.ndarray:
    """Smooth random field: uniform values on a coarse grid, bicubically upsampled.

    Args:
        rng: random generator.
        shape: output (H, W).
        cells: number of grid cells along the longer side (feature size ~ max(H, W) / cells).

    Returns:
        float32 [H, W], roughly in [0, 1].
    """
    h, w = shape
    step = max(h, w) / max(float(cells), 1.0)
    gh, gw = int(np.ceil(h / step)) + 2, int(np.ceil(w / step)) + 2
    grid = rng.random((gh, gw), dtype=np.float32)
    big = cv2.resize(grid, (int(round(gw * step)), int(round(gh * step))),
                     interpolation=cv2.INTER_CUBIC)
    return big[:h, :w]


def fbm(rng: np.random.Generator, shape: Tuple[int, int], cells: float = 4.0,
        octaves: int = 4, persistence: float = 0.5) -> np.ndarray:
    """Fractal Brownian motion: a sum of value-noise octaves of doubling frequency.

    The octaves are summed at the lowest resolution that still gives the finest octave
    4 pixels per cell, then upsampled once (bilinear).

    Returns:
        float32 [H, W] rescaled to exactly [0, 1].
    """
    h, w = shape
    factor = max(1.0, max(h, w) / (4.0 * cells * 2**(octaves - 1)))
    work = (max(2, int(np.ceil(h / factor))), max(2, int(np.ceil(w / factor))))
    total = np.zeros(work, np.float32)
    amp = 1.0
    for octave in range(octaves):
        total += amp * value_noise(rng, work, cells * 2**octave)
        amp *= persistence
    if work != (h, w):
        total = cv2.resize(total, (w, h), interpolation=cv2.INTER_LINEAR)
    lo, hi = float(total.min()), float(total.max())
    return (total - lo) / max(hi - lo, 1e-6)
