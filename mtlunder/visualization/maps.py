"""Per-pixel maps of the dense tasks as pictures: class colours, grey levels, viridis depth,
normals as RGB. Pure numpy / cv2; used by :class:`MultiTaskLocalVisualizer` and the
inferencer's output files."""
from typing import Optional, Tuple

import numpy as np


def rgb01_to_bgr_uint8(rgb01) -> np.ndarray:
    """[3, H, W] RGB tensor in [0, 1] -> [H, W, 3] BGR uint8 (for cv2/mmcv writers)."""
    arr = rgb01.detach().float().clamp(0, 1).mul(255).round().byte().cpu().numpy()
    return np.ascontiguousarray(arr.transpose(1, 2, 0)[..., ::-1])


def class_palette(ignore_value: Optional[int] = None) -> np.ndarray:
    """RGB uint8 [256, 3]: the colour of each class index in :func:`dense_map_picture`
    (well-spread hues, class 0 dark; ``ignore_value`` black), for palette PNGs."""
    import cv2

    index = np.arange(256)
    hsv = np.stack([(index * 47) % 180, np.full_like(index, 200),
                    np.where(index == 0, 60, 230)], -1)
    rgb = cv2.cvtColor(hsv[None].astype(np.uint8), cv2.COLOR_HSV2RGB)[0]
    if ignore_value is not None and 0 <= ignore_value < 256:
        rgb[int(ignore_value)] = 0
    return rgb


def dense_map_picture(label: np.ndarray, kind: str, ignore_value: Optional[float] = None,
                      grey: bool = False,
                      value_range: Optional[Tuple[float, float]] = None) -> np.ndarray:
    """A per-pixel map of a task (its ``TASK_SPECS`` label ``kind``) as uint8 BGR [H, W, 3].

    - ``label_map`` [H, W]: one colour per class index, or with ``grey`` (binary maps and
      their probabilities in [0, 1]: saliency, edges) grey levels; ``ignore_value`` black;
    - ``continuous_map`` [H, W] (depth, metres): the viridis colour map over
      ``value_range`` (default :func:`map_range`; pass the label's for its prediction),
      0 (no measurement) black;
    - ``unit_vector_map`` [H, W, 3]: ``(n + 1) / 2`` as RGB, the zero vector black.
    """
    import cv2

    label = np.asarray(label)
    if kind == 'unit_vector_map':
        rgb = np.clip((label + 1) / 2 * 255, 0, 255).astype(np.uint8)
        rgb[np.abs(label).sum(-1) == 0] = 0
        return np.ascontiguousarray(rgb[..., ::-1])
    if kind == 'continuous_map':
        valid = label > 0
        out = np.zeros(label.shape + (3, ), np.uint8)
        if valid.any():
            lo, hi = value_range or map_range(label)
            scaled = np.clip((label - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(np.uint8)
            out = cv2.applyColorMap(scaled, cv2.COLORMAP_VIRIDIS)
            out[~valid] = 0
        return out
    if kind != 'label_map':
        raise ValueError(f'dense_map_picture: no picture for label kind {kind!r}')
    ignored = label == ignore_value if ignore_value is not None else np.zeros(label.shape, bool)
    if grey:
        levels = np.clip(label * 255, 0, 255).astype(np.uint8)
        out = np.repeat(levels[..., None], 3, axis=2)
    else:
        out = class_palette()[label.astype(np.int64) % 256][..., ::-1].copy()
    out[ignored] = 0
    return out


def map_range(depth: np.ndarray) -> Tuple[float, float]:
    """1st and 99th percentile of the values > 0 of a continuous map ((0, 1) when none)."""
    valid = depth[depth > 0]
    return tuple(np.percentile(valid, (1, 99))) if valid.size else (0.0, 1.0)
