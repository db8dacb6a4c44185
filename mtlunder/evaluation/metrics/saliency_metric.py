"""Saliency metrics of the dense multi-task literature: maxF and mIoU over thresholds."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import MMLogger

from mtlunder.registry import METRICS
from .base_dense_metric import BaseDenseMetric, nan_warning

#: ASTMT's / MTI-Net's thresholds of the foreground probability.
DEFAULT_THRESHOLDS = tuple(np.linspace(0.2, 0.9, 15).tolist())


@METRICS.register_module()
class SaliencyMetric(BaseDenseMetric):
    """maxF and mIoU of a saliency probability map, per image then averaged, as the
    ``eval_sal`` of ASTMT (Maninis et al., CVPR 2019) and of Vandenhende et al.'s
    Multi-Task-Learning-PyTorch (MTI-Net) score PASCAL-Context saliency (task ``'sal'``).

    Protocol:
        - Prediction ``pred_sal.data`` [1, H, W]: foreground probability in [0, 1] (values
          outside raise). Label ``gt_sal.data`` [1, H, W]: foreground where ``label > 0.5``,
          ``ignore_index`` (255) left out; any other value outside [0, 1] raises.
        - For every threshold t of ``thresholds`` (default ``linspace(0.2, 0.9, 15)``) the
          prediction is binarised as ``prob > t`` (strict), and each image i gets, over its
          labelled pixels, ``TP``, ``FP``, ``FN`` of the foreground and
          ``P_it = TP / (TP + FP)`` (0 when nothing is predicted),
          ``R_it = TP / (TP + FN)`` (0 when the label has no foreground),
          ``IoU_it = TP / (TP + FP + FN)``, and 1 when the label and the prediction both
          have no foreground (union 0): that image is then perfect for IoU, and adds
          ``P = R = 0`` to the means, as ASTMT's ``jaccard`` / ``precision_recall`` do
          (no NaN in either case).
        - Means over the N scored images: ``P_t = mean_i P_it``, ``R_t = mean_i R_it``,
          ``F_t = (1 + b2) P_t R_t / (b2 P_t + R_t)`` (0 when the denominator is 0) with
          ``b2 = beta_squared``; ``maxF = max_t F_t``; ``mIoU = max_t mean_i IoU_it``.
          The two maxima may sit at different thresholds.
        - Images without any labelled pixel (all 255) are left out and counted in the log.

    ``beta_squared`` defaults to 1, the F-measure ``2 P R / (P + R)`` that ASTMT's and
    MTI-Net's ``eval_sal`` compute and report as maxF; 0.3 gives the salient-object
    detection F_beta (Achanta et al.) with the same per-image averaging (InvPT-style code
    sums the counts over the set instead and uses 19 thresholds; that is not this
    protocol). Unlike ASTMT, the probability is not quantised to a 8-bit PNG first.

    Keys: ``sal/maxF``, ``sal/mIoU`` (fractions in [0, 1]). The thresholds of both maxima
    and P / R at the maxF threshold are logged.

    Args:
        thresholds: foreground-probability thresholds, each in [0, 1).
        beta_squared: beta^2 of the F-measure (> 0).
        ignore_index: label value left out (default: the task's ignore value, 255).
        task: the task scored. Defaults to 'sal'.
        collect_device, prefix: as :class:`mmengine.evaluator.BaseMetric`.
    """

    kinds = ('label_map', )

    def __init__(self, thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                 beta_squared: float = 1.0, ignore_index: Optional[int] = None,
                 task: str = 'sal', collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(task, collect_device=collect_device, prefix=prefix)
        self.thresholds = np.asarray(thresholds, dtype=np.float64).reshape(-1)
        if not len(self.thresholds) or self.thresholds.min() < 0 or \
                self.thresholds.max() >= 1:
            raise ValueError(f'SaliencyMetric: thresholds must be a non-empty list in [0, 1), '
                             f'got {list(thresholds)}')
        if beta_squared <= 0:
            raise ValueError(f'SaliencyMetric: beta_squared must be > 0, got {beta_squared}')
        self.beta_squared = float(beta_squared)
        self.ignore_index = self.spec.ignore_value if ignore_index is None else ignore_index

    def score(self, pred: torch.Tensor, gt: torch.Tensor, where) -> dict:
        prob = self.channels(pred, 1, self.spec.pred_field, where).double().reshape(-1)
        label = self.channels(gt, 1, self.spec.gt_field, where).double().reshape(-1)
        if prob.numel() and (prob.min() < 0 or prob.max() > 1):
            raise ValueError(f'SaliencyMetric: {self.spec.pred_field} of {where} must hold '
                             f'probabilities in [0, 1], got values in [{float(prob.min()):g}, '
                             f'{float(prob.max()):g}]')
        valid = label != self.ignore_index
        label, prob = label[valid], prob[valid]
        if label.numel() and (label.min() < 0 or label.max() > 1):
            raise ValueError(f'SaliencyMetric: {self.spec.gt_field} of {where} must hold '
                             f'values in [0, 1] or {self.ignore_index}, got values in '
                             f'[{float(label.min()):g}, {float(label.max()):g}]')
        fg = (label > 0.5)[None]                                               # [1, n]
        binary = prob[None] > torch.from_numpy(self.thresholds)[:, None]      # [K, n]
        tp = (binary & fg).sum(1)
        return dict(labelled=int(valid.sum()), tp=tp.numpy(),
                    fp=(binary.sum(1) - tp).numpy(), fn=(int(fg.sum()) - tp).numpy())

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        scored = self.scored(results)
        images = [r for r in scored if r['labelled'] > 0]
        if len(images) < len(scored):
            MMLogger.get_current_instance().info(
                f'SaliencyMetric: {len(scored) - len(images)} scored images without a '
                'labelled pixel left out')
        if not images:
            nan_warning('SaliencyMetric', 'no image with a labelled saliency pixel')
            return dict(maxF=float('nan'), mIoU=float('nan'))
        tp, fp, fn = (np.stack([r[k] for r in images]).astype(np.float64)
                      for k in ('tp', 'fp', 'fn'))                            # [N, K]
        precision, recall = saliency_pr(tp, fp, fn)
        iou = np.where(tp + fp + fn > 0, tp / np.maximum(tp + fp + fn, 1), 1.0)
        p, r = precision.mean(0), recall.mean(0)
        f = f_beta(p, r, self.beta_squared)
        best_f, best_iou = int(np.argmax(f)), int(np.argmax(iou.mean(0)))
        MMLogger.get_current_instance().info(
            f'SaliencyMetric: maxF {f[best_f]:.4f} at threshold {self.thresholds[best_f]:.3f} '
            f'(P {p[best_f]:.4f}, R {r[best_f]:.4f}, beta^2 {self.beta_squared:g}), mIoU '
            f'{iou.mean(0)[best_iou]:.4f} at threshold {self.thresholds[best_iou]:.3f}, '
            f'{len(images)} images')
        return dict(maxF=float(f[best_f]), mIoU=float(iou.mean(0)[best_iou]))


def saliency_pr(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray):
    """Per-image precision and recall from counts (arrays of one shape): 0 where the
    denominator is 0 (ASTMT's ``precision_recall``)."""
    precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0)
    recall = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), 0.0)
    return precision, recall


def f_beta(precision: np.ndarray, recall: np.ndarray, beta_squared: float) -> np.ndarray:
    """``(1 + b2) P R / (b2 P + R)``, 0 where ``b2 P + R`` is 0."""
    den = beta_squared * precision + recall
    return np.where(den > 0, (1 + beta_squared) * precision * recall / np.where(den > 0, den, 1),
                    0.0)
