"""Picture grids of detection + enhancement results: input | enhanced | reference."""
from typing import Optional, Sequence

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
    import cv2

    h, w = img.shape[:2]
    grey = np.full_like(img, 96)
    left = img
    if pred is not None:
        keep = pred['scores'] >= score_thr
        left = draw_boxes(img, pred['bboxes'][keep], pred['labels'][keep], classes,
                          pred['scores'][keep])
    right = reference if reference is not None else img
    if gt is not None and len(gt['bboxes']):
        right = draw_boxes(right, gt['bboxes'], gt['labels'], classes, colour=_GT_COLOUR)
    middle = enhanced if enhanced is not None else grey
    panels = []
    right_title = 'reference + true boxes' if reference is not None else 'input + true boxes'
    for panel, title in ((left, 'input + predicted boxes'), (middle, 'enhanced'),
                         (right, right_title)):
        if panel.shape[:2] != (h, w):
            panel = cv2.resize(panel, (w, h), interpolation=cv2.INTER_LINEAR)
        panel = panel.copy()
        cv2.putText(panel, title, (4, h - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255),
                    1, cv2.LINE_AA)
        panels += [panel, np.zeros((h, 4, 3), np.uint8)]
    return np.concatenate(panels[:-1], axis=1)
