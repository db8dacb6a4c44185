"""Picture rows of multi-task results: input | enhanced | reference for detection +
enhancement, input | predicted map | true map for the dense tasks."""
from typing import Optional, Sequence, Tuple

import numpy as np

#: BGR colours per class index (cycled), and for ground truth.
_PALETTE = [(0, 200, 255), (255, 80, 80), (80, 255, 80), (255, 0, 255), (0, 255, 255),
            (255, 255, 0)]
_GT_COLOUR = (255, 255, 255)


def rgb01_to_bgr_uint8(rgb01) -> np.ndarray:
    """[3, H, W] RGB tensor in [0, 1] -> [H, W, 3] BGR uint8 (for cv2/mmcv writers)."""
    arr = rgb01.detach().float().clamp(0, 1).mul(255).round().byte().cpu().numpy()
    return np.ascontiguousarray(arr.transpose(1, 2, 0)[..., ::-1])


def draw_boxes(img: np.ndarray, bboxes: np.ndarray, labels: np.ndarray,
               classes: Sequence[str], scores: Optional[np.ndarray] = None,
               colour: Optional[tuple] = None, thickness: int = 2) -> np.ndarray:
    """Draw boxes on a copy of ``img``.

    Args:
        img: uint8 BGR image [H, W, 3].
        bboxes: [N, 4] x1, y1, x2, y2 in pixels of ``img``.
        labels: [N] class indices into ``classes``.
        scores: optional [N] scores, written after the class name.
        colour: one BGR colour for all boxes (default: per class).
    """
    import cv2

    out = img.copy()
    for i, (box, label) in enumerate(zip(bboxes.astype(int), labels.astype(int))):
        c = colour or _PALETTE[label % len(_PALETTE)]
        cv2.rectangle(out, (box[0], box[1]), (box[2], box[3]), c, thickness)
        text = classes[label] if label < len(classes) else str(label)
        if scores is not None:
            text = f'{text} {scores[i]:.2f}'
        cv2.putText(out, text, (box[0], max(box[1] - 3, 10)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4, c, 1, cv2.LINE_AA)
    return out


def det_enh_grid(img: np.ndarray, enhanced: Optional[np.ndarray],
                 reference: Optional[np.ndarray], classes: Sequence[str],
                 pred: Optional[dict] = None, gt: Optional[dict] = None,
                 score_thr: float = 0.3) -> np.ndarray:
    """One row ``input + predicted boxes | enhanced | reference + true boxes``.

    Args:
        img, enhanced, reference: uint8 BGR images [H, W, 3] of the same size; a missing
            enhanced output is drawn as a grey panel, a missing reference (a real detection
            image) as the input, titled ``input + true boxes``.
        pred: ``dict(bboxes [N,4], labels [N], scores [N])`` in pixels of ``img``.
        gt: ``dict(bboxes [M,4], labels [M])``.
    Returns:
        uint8 BGR image [H, 3W + 8, 3].
    """
    left = img
    if pred is not None:
        left = draw_predictions(img, pred, classes, score_thr)
    right = reference if reference is not None else img
    if gt is not None and len(gt['bboxes']):
        right = draw_boxes(right, gt['bboxes'], gt['labels'], classes, colour=_GT_COLOUR)
    middle = enhanced if enhanced is not None else np.full_like(img, 96)
    right_title = 'reference + true boxes' if reference is not None else 'input + true boxes'
    return picture_row([(left, 'input + predicted boxes'), (middle, 'enhanced'),
                        (right, right_title)])


def draw_predictions(img: np.ndarray, pred: dict, classes: Sequence[str],
                     score_thr: float = 0.3) -> np.ndarray:
    """``img`` with the predicted boxes scoring at least ``score_thr``
    (``pred = dict(bboxes [N, 4], labels [N], scores [N])``, pixels of ``img``)."""
    keep = pred['scores'] >= score_thr
    return draw_boxes(img, pred['bboxes'][keep], pred['labels'][keep], classes,
                      pred['scores'][keep])


def picture_row(panels: Sequence[Tuple[np.ndarray, str]]) -> np.ndarray:
    """Titled uint8 BGR panels side by side, each resized to the first one's [H, W], 4 px
    black gaps: [H, n W + 4 (n - 1), 3]."""
    import cv2

    h, w = panels[0][0].shape[:2]
    out = []
    for panel, title in panels:
        if panel.shape[:2] != (h, w):
            panel = cv2.resize(panel, (w, h), interpolation=cv2.INTER_LINEAR)
        panel = panel.copy()
        cv2.putText(panel, title, (4, h - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255),
                    1, cv2.LINE_AA)
        out += [panel, np.zeros((h, 4, 3), np.uint8)]
    return np.concatenate(out[:-1], axis=1)


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
        index = label.astype(np.int64)
        hues = (index * 47) % 180        # well-spread hues per class index
        hsv = np.stack([hues, np.full_like(hues, 200), np.where(index == 0, 60, 230)], -1)
        out = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR)
    out[ignored] = 0
    return out


def map_range(depth: np.ndarray) -> Tuple[float, float]:
    """1st and 99th percentile of the values > 0 of a continuous map ((0, 1) when none)."""
    valid = depth[depth > 0]
    return tuple(np.percentile(valid, (1, 99))) if valid.size else (0.0, 1.0)
