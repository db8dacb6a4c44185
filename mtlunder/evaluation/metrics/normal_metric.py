"""Angular error of surface normals (``docs/metrics.md``, section "Dense metrics")."""
import math
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from mtlunder.registry import METRICS
from .base_dense_metric import BaseDenseMetric, nan_warning


@METRICS.register_module()
class NormalMetric(BaseDenseMetric):
    """Angular error of surface normals over the valid pixels of the whole set (task
    ``'normal'``).

    Protocol: prediction ``pred_normal.data`` and label ``gt_normal.data``, [3, H, W].
    Valid pixels: finite label of norm > 0.5 (the zero vector marks invalid pixels). The
    angle between prediction and label, in degrees, is ``atan2(|p x g|, p . g)`` in
    float64 (the angle between the unit-normalised vectors, accurate near 0 and 180
    degrees; no normalisation is needed); a zero prediction vector has no direction and
    counts as 90 degrees. Over all valid pixels of the set (each pixel weighs the same, as
    in the multi-task literature): ``mean``, ``rmse = sqrt(mean(angle^2))``, ``median`` and
    the fractions of pixels with angle < 11.25, 22.5 and 30 degrees (strict, exact counts).

    The median comes from a histogram of the angles with bins of ``bin_width`` degrees
    (default 0.01) over [0, 180], so no angle is stored: it is the centre of the bin
    holding the middle angle (for an even count, the mean of the centres of the two middle
    ones), at most ``bin_width / 2`` (0.005 degrees by default) from the exact median. Each
    image keeps only its occupied bins (8 bytes each).

    Keys: ``normal/mean``, ``normal/median``, ``normal/rmse`` (degrees), ``normal/11.25``,
    ``normal/22.5``, ``normal/30`` (fractions; one key per entry of ``thresholds``,
    formatted with ``'{:g}'``).

    Args:
        thresholds: angles (degrees) of the ``within`` fractions.
        bin_width: histogram bin of the median, degrees.
        collect_device, prefix: as :class:`mmengine.evaluator.BaseMetric`.
    """

    kinds = ('unit_vector_map',)

    def __init__(self, thresholds: Sequence[float] = (11.25, 22.5, 30.0),
                 bin_width: float = 0.01, task: str = 'normal', collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(task, collect_device=collect_device, prefix=prefix)
        if not 0 < bin_width <= 180:
            raise ValueError(f'NormalMetric: bin_width must be in (0, 180], got {bin_width}')
        self.thresholds = tuple(float(t) for t in thresholds)
        self.bin_width = float(bin_width)
        self.num_bins = int(math.ceil(180.0 / bin_width - 1e-9))

    def score(self, pred: torch.Tensor, gt: torch.Tensor, where) -> dict:
        pred = self.channels(pred, 3, self.spec.pred_field, where).double().reshape(3, -1)
        gt = self.channels(gt, 3, self.spec.gt_field, where).double().reshape(3, -1)
        valid = torch.isfinite(gt).all(0) & (gt.norm(dim=0) > 0.5)
        p, g = pred[:, valid], gt[:, valid]
        angle = torch.rad2deg(torch.atan2(torch.linalg.cross(p, g, dim=0).norm(dim=0),
                                          (p * g).sum(0)))
        angle[p.norm(dim=0) == 0] = 90.0
        bins = (angle / self.bin_width).floor().long().clamp(0, self.num_bins - 1)
        index, count = torch.unique(bins, return_counts=True)
        return dict(n=int(angle.numel()), sum=float(angle.sum()),
                    sum_sq=float((angle**2).sum()),
                    within=[int((angle < t).sum()) for t in self.thresholds],
                    index=index.numpy().astype(np.int32), count=count.numpy().astype(np.int32))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        scored = self.scored(results)
        keys = ['mean', 'median', 'rmse'] + [f'{t:g}' for t in self.thresholds]
        n = sum(r['n'] for r in scored)
        if n == 0:
            nan_warning('NormalMetric', 'no valid normal pixel in the scored images')
            return {k: float('nan') for k in keys}
        hist = np.zeros(self.num_bins, dtype=np.int64)
        np.add.at(hist, np.concatenate([r['index'] for r in scored]).astype(np.int64),
                  np.concatenate([r['count'] for r in scored]).astype(np.int64))
        values = [sum(r['sum'] for r in scored) / n,
                  histogram_median(hist, self.bin_width),
                  math.sqrt(sum(r['sum_sq'] for r in scored) / n)]
        values += [sum(r['within'][i] for r in scored) / n for i in range(len(self.thresholds))]
        return dict(zip(keys, values))


def histogram_median(hist: np.ndarray, bin_width: float) -> float:
    """Median of the values counted in ``hist`` (bin i covers [i w, (i + 1) w)): the centre
    of the bin of the middle value (mean of the two middle ones for an even count)."""
    total = int(hist.sum())
    cum = np.cumsum(hist)
    middle = np.searchsorted(cum, [(total - 1) // 2, total // 2], side='right')
    return float(((middle + 0.5) * bin_width).mean())
