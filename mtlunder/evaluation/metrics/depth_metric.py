"""Depth errors of the dense multi-task literature (``docs/metrics.md``, section "Dense
metrics")."""
import math
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.logging import MMLogger

from mtlunder.registry import METRICS
from .base_dense_metric import BaseDenseMetric, nan_warning


@METRICS.register_module()
class DepthMetric(BaseDenseMetric):
    """Depth errors over the pixels with a measurement (task ``'depth'``).

    Protocol: prediction ``pred_depth.data`` and label ``gt_depth.data``, [1, H, W] in
    metres. Valid pixels: finite label > 0 (0 = no measurement), and ``>= min_depth`` /
    ``<= max_depth`` when given. The prediction is not clamped. Per valid pixel:
    squared error ``(pred - gt)^2``, relative error ``|pred - gt| / gt`` and the ratio
    ``max(pred / gt, gt / pred)`` (a prediction <= 0 has an infinite ratio: it fails every
    delta).

    Reduction (``reduction``):
        ``'pixel'`` (default): every valid pixel of the set weighs the same:
        ``rmse = sqrt(sum sq / N)``, ``abs_rel = sum rel / N``, ``delta_k`` = fraction of
        the N pixels with ratio < 1.25^k. This is the multi-task convention (the
        ``DepthMeter`` of ASTMT, Maninis et al., reused by Vandenhende et al.'s MTI-Net /
        Multi-Task-Learning-PyTorch code: squared errors summed over the set, then divided by
        the number of valid pixels).
        ``'image'``: the same quantities per image, then the mean over images (the
        monocular-depth convention, e.g. Eigen et al.); images without a valid pixel are left
        out (and counted in the log).

    Keys: ``depth/rmse`` (metres), ``depth/abs_rel``, ``depth/delta1``, ``depth/delta2``,
    ``depth/delta3`` (fractions).

    Args:
        min_depth, max_depth: optional valid range of the label (metres, inclusive).
        reduction: ``'pixel'`` or ``'image'``.
        collect_device, prefix: as :class:`mmengine.evaluator.BaseMetric`.
    """

    kinds = ('continuous_map',)
    DELTA_BASE = 1.25

    def __init__(self, min_depth: Optional[float] = None, max_depth: Optional[float] = None,
                 reduction: str = 'pixel', task: str = 'depth', collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(task, collect_device=collect_device, prefix=prefix)
        if reduction not in ('pixel', 'image'):
            raise ValueError(f"DepthMetric: reduction must be 'pixel' or 'image', "
                             f'got {reduction!r}')
        if min_depth is not None and max_depth is not None and min_depth > max_depth:
            raise ValueError(f'DepthMetric: min_depth {min_depth} > max_depth {max_depth}')
        self.min_depth, self.max_depth, self.reduction = min_depth, max_depth, reduction

    def score(self, pred: torch.Tensor, gt: torch.Tensor, where) -> dict:
        pred = self.channels(pred, 1, self.spec.pred_field, where).double().reshape(-1)
        gt = self.channels(gt, 1, self.spec.gt_field, where).double().reshape(-1)
        valid = torch.isfinite(gt) & (gt > 0)
        if self.min_depth is not None:
            valid &= gt >= self.min_depth
        if self.max_depth is not None:
            valid &= gt <= self.max_depth
        p, g = pred[valid], gt[valid]
        ratio = torch.where(p > 0, torch.maximum(p / g, g / p.clamp(min=1e-300)),
                            torch.full_like(p, math.inf))
        return dict(n=int(valid.sum()), sq=float(((p - g)**2).sum()),
                    rel=float(((p - g).abs() / g).sum()),
                    delta=[int((ratio < self.DELTA_BASE**k).sum()) for k in (1, 2, 3)])

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        scored = self.scored(results)
        keys = ('rmse', 'abs_rel', 'delta1', 'delta2', 'delta3')
        if self.reduction == 'pixel':
            n = sum(r['n'] for r in scored)
            if n == 0:
                nan_warning('DepthMetric', 'no valid depth pixel in the scored images')
                return {k: float('nan') for k in keys}
            return dict(zip(keys, [math.sqrt(sum(r['sq'] for r in scored) / n),
                                   sum(r['rel'] for r in scored) / n] +
                            [sum(r['delta'][k] for r in scored) / n for k in range(3)]))
        images = [r for r in scored if r['n'] > 0]
        if len(images) < len(scored):
            MMLogger.get_current_instance().info(
                f'DepthMetric: {len(scored) - len(images)} scored images without a valid '
                "pixel left out of the per-image means (reduction='image')")
        if not images:
            nan_warning('DepthMetric', 'no image with a valid depth pixel')
            return {k: float('nan') for k in keys}
        per_image = np.array([[math.sqrt(r['sq'] / r['n']), r['rel'] / r['n']] +
                              [d / r['n'] for d in r['delta']] for r in images])
        return dict(zip(keys, (float(v) for v in per_image.mean(0))))
