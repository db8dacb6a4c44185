"""BSDS-style F-measures of edge maps (``docs/metrics.md``, section "Dense metrics")."""
import math
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.logging import MMLogger

from mtlunder.registry import METRICS
from ..functional import match_edges, thin
from .base_dense_metric import BaseDenseMetric, nan_warning


def _fmeasure(p: np.ndarray, r: np.ndarray) -> np.ndarray:
    s = p + r
    return np.where(s > 0, 2 * p * r / np.where(s > 0, s, 1), 0.0)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (the BSDS convention)."""
    return np.where(den > 0, num / np.maximum(den, 1), 0.0)


@METRICS.register_module()
class EdgeMetric(BaseDenseMetric):
    """Optimal-dataset-scale (and optimal-image-scale) F-measure of edge maps, following the
    BSDS boundary benchmark (task ``'edge'``).

    Protocol: prediction ``pred_edge.data`` [1, H, W], edge probabilities in [0, 1] (values
    outside raise); label ``gt_edge.data`` [1, H, W] with 1 = edge, 0 = no edge and
    ``ignore_index`` (255) = unlabelled (other values raise). For each of the
    ``num_thresholds`` thresholds ``t_k = linspace(1 / (N + 1), 1 - 1 / (N + 1), N)`` (0.01,
    ..., 0.99 for the default N = 99, as BSDS and Dollar's toolbox), the prediction is
    binarised (``prob >= t_k``), thinned with :func:`thin` (``thin_pred``), and its pixels
    at ignored positions are then dropped (they count neither as hits nor as false
    alarms). Predicted and label edge pixels are matched one-to-one within ``max_dist``
    times the image diagonal (Euclidean distance <= ``max_dist * sqrt(H^2 + W^2)`` pixels;
    0.0075 for BSDS / PASCAL, 0.011 for NYUD-v2) by :func:`match_edges` (a maximum
    matching). Per image and
    threshold the counts ``matched``, ``predicted`` and ``labelled`` are kept; with one
    label map per image the matched count serves precision and recall alike.

    ``odsF``: P_k = sum matched / sum predicted and R_k = sum matched / sum labelled over
    the set (0 when the denominator is 0), F_k = 2 P R / (P + R), maximised over the
    thresholds; with ``interpolate`` (default, as BSDS's ``collect_eval_bdry``) P and R are
    also interpolated linearly between neighbouring thresholds (100 steps) before taking
    the maximum. ``oisF``: each image's best threshold (its own F; the highest threshold
    among ties, as BSDS), its counts summed over the set, then the F of those sums.

    Differences from the MATLAB BSDS / SEISM tools (``correspondPixels`` + ``bwmorph``):
        - matching: a maximum-cardinality matching of the pairs within the radius
          (:func:`match_edges`) instead of CSA's minimum-cost assignment (distance costs,
          100 x radius per unmatched pixel, integer-scaled, on a graph with a limited
          number of outlier connections per pixel). Both maximise the number of matches,
          the only thing the score uses, except where adding one match would move about
          200 matched pairs; which pixels pair up can differ.
        - thinning: the same algorithm as ``bwmorph(bw, 'thin', Inf)`` (Guo-Hall lookup
          tables, out-of-image pixels are background), re-implemented in numpy; the tests
          check it against scikit-image's tables and loop, nothing checks it against MATLAB
          itself. The label map is not thinned unless ``thin_gt`` (BSDS thins the
          boundaries it derives from segmentations).
        - ignore pixels: BSDS / SEISM have none; here predicted pixels there are dropped
          after thinning.
        - borders: none cropped, no margin; the radius simply ends at the image border.
        - one label map per image (BSDS matches against each of several annotators and
          sums their counts); thresholds on the
          probabilities as given, no non-maximum suppression (apply it in the model if the
          protocol asks for it).

    Keys: ``edge/odsF``, ``edge/oisF`` (with ``compute_ois``). The ODS threshold, P and R
    are logged.

    Args:
        max_dist: matching radius as a fraction of the image diagonal.
        num_thresholds: number of thresholds N.
        thin_pred: thin the binarised prediction (BSDS: yes).
        thin_gt: thin the label edges first.
        interpolate: interpolate P / R between thresholds for odsF (BSDS: yes).
        compute_ois: also report ``oisF``.
        ignore_index: label value left out (default: the task's ignore value).
        collect_device, prefix: as :class:`mmengine.evaluator.BaseMetric`.
    """

    kinds = ('label_map',)

    def __init__(self, max_dist: float = 0.0075, num_thresholds: int = 99,
                 thin_pred: bool = True, thin_gt: bool = False, interpolate: bool = True,
                 compute_ois: bool = True, ignore_index: Optional[int] = None,
                 task: str = 'edge', collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(task, collect_device=collect_device, prefix=prefix)
        if max_dist < 0:
            raise ValueError(f'EdgeMetric: max_dist must be >= 0, got {max_dist}')
        if int(num_thresholds) < 1:
            raise ValueError(f'EdgeMetric: num_thresholds must be >= 1, got {num_thresholds}')
        n = int(num_thresholds)
        self.thresholds = np.linspace(1 / (n + 1), 1 - 1 / (n + 1), n)
        self.max_dist, self.thin_pred, self.thin_gt = max_dist, thin_pred, thin_gt
        self.interpolate, self.compute_ois = interpolate, compute_ois
        self.ignore_index = self.spec.ignore_value if ignore_index is None else ignore_index

    def score(self, pred: torch.Tensor, gt: torch.Tensor, where) -> dict:
        prob = self.channels(pred, 1, self.spec.pred_field, where)[0].double().numpy()
        label = self.channels(gt, 1, self.spec.gt_field, where)[0].long().numpy()
        if prob.size and (prob.min() < 0 or prob.max() > 1):
            raise ValueError(f'EdgeMetric: {self.spec.pred_field} of {where} must hold '
                             f'probabilities in [0, 1], got values in '
                             f'[{prob.min():g}, {prob.max():g}]')
        ignore = label == self.ignore_index
        if not np.isin(label[~ignore], (0, 1)).all():
            raise ValueError(f'EdgeMetric: {self.spec.gt_field} of {where} must hold 0, 1 or '
                             f'{self.ignore_index}, got {np.unique(label).tolist()}')
        gt_edge = label == 1
        if self.thin_gt:
            gt_edge = thin(gt_edge)
        radius = self.max_dist * math.hypot(*label.shape)
        matched = np.zeros(len(self.thresholds), dtype=np.int64)
        predicted = np.zeros(len(self.thresholds), dtype=np.int64)
        previous = -1
        for k, t in enumerate(self.thresholds):
            binary = prob >= t
            count = int(binary.sum())
            if count == previous:  # nested sets: same count, same map
                matched[k], predicted[k] = matched[k - 1], predicted[k - 1]
                continue
            previous = count
            if self.thin_pred:
                binary = thin(binary)
            binary &= ~ignore
            predicted[k] = int(binary.sum())
            matched[k] = match_edges(binary, gt_edge, radius)
        return dict(matched=matched, predicted=predicted, labelled=int(gt_edge.sum()))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        scored = self.scored(results)
        if not scored:
            nan_warning('EdgeMetric', 'no image scored')
            out = dict(odsF=float('nan'))
            if self.compute_ois:
                out['oisF'] = float('nan')
            return out
        matched = np.stack([r['matched'] for r in scored])      # [images, thresholds]
        predicted = np.stack([r['predicted'] for r in scored])
        labelled = np.array([r['labelled'] for r in scored])
        if labelled.sum() == 0:
            logger.warning('EdgeMetric: no labelled edge pixel in the scored images; '
                           'recall and F are 0')
        precision = _ratio(matched.sum(0), predicted.sum(0))
        recall = _ratio(matched.sum(0).astype(np.float64), np.full(
            len(self.thresholds), labelled.sum()))
        ods_f, ods_t, ods_p, ods_r = best_f(self.thresholds, precision, recall,
                                            self.interpolate)
        logger.info(f'EdgeMetric: odsF {ods_f:.4f} at threshold {ods_t:.4f} '
                    f'(P {ods_p:.4f}, R {ods_r:.4f}), {len(scored)} images, '
                    f'radius {self.max_dist} x diagonal')
        out = dict(odsF=ods_f)
        if self.compute_ois:
            f_img = _fmeasure(_ratio(matched, predicted),
                              _ratio(matched.astype(np.float64), labelled[:, None]))
            best = f_img.shape[1] - 1 - np.argmax(f_img[:, ::-1], axis=1)  # last maximum
            rows = np.arange(len(scored))
            out['oisF'] = float(_fmeasure(
                _ratio(matched[rows, best].sum(), predicted[rows, best].sum()),
                _ratio(float(matched[rows, best].sum()), labelled.sum())))
        return out


def best_f(thresholds: np.ndarray, precision: np.ndarray, recall: np.ndarray,
           interpolate: bool = True) -> Tuple[float, float, float, float]:
    """(F, threshold, P, R) of the best point of a precision / recall curve; with
    ``interpolate``, P, R and the threshold are also interpolated linearly between
    neighbouring thresholds at 100 points (``linspace(0, 1, 100)``), as BSDS's ``maxF``."""
    t, p, r = (np.asarray(a, dtype=np.float64) for a in (thresholds, precision, recall))
    if interpolate and len(t) > 1:
        d = np.linspace(0, 1, 100)[None]  # a + d (b - a): exact where a == b

        def between(a):
            return np.concatenate([a[:1], (a[:-1, None] + d * (a[1:] - a[:-1])[:, None]).ravel()])

        t, p, r = between(t), between(p), between(r)
    f = _fmeasure(p, r)
    i = int(np.argmax(f))
    return float(f[i]), float(t[i]), float(p[i]), float(r[i])
