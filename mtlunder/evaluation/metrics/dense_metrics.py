"""Metrics of the dense multi-task tasks: semantic segmentation (and part segmentation,
saliency as two-class maps), depth, surface normals and edges (``docs/metrics.md``, section
"Dense metrics", lists every convention).

Shared protocol of the four metrics:
    - Samples come as mmengine passes them to ``process`` (``data_sample.to_dict()``): the
      prediction ``<pred_field>.data`` and the label ``<gt_field>.data`` of the task (fields
      from :data:`~mtlunder.structures.TASK_SPECS`), both at the original image size.
    - A sample is scored when it is labelled for the task (metainfo ``tasks`` contains it;
      without ``tasks`` metainfo, when it carries the label) and has the prediction; the
      others are skipped and the counts, by reason, are logged.
    - A prediction of another spatial size than its label, a NaN / inf prediction or a
      label value out of range raises a ``ValueError`` naming ``img_path``.
    - ``process`` keeps one compact entry per sample (sums and counts, never per-pixel
      lists), as mmengine expects: distributed evaluation drops the padded duplicates by
      counting entries.
    - Ratios (mIoU, accuracies, delta, fractions within an angle, F-measures) are fractions
      in [0, 1], not percent; depth errors are in metres, angles in degrees.
"""
import math
from abc import abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mtlunder.registry import METRICS
from mtlunder.structures.task_specs import TASK_SPECS, TaskSpec


class _DenseTaskMetric(BaseMetric):
    """Skip logic, field access and checks shared by the dense metrics.

    Subclasses set :attr:`kinds` (the ``TASK_SPECS`` label kinds they accept) and implement
    :meth:`score` (one entry of ``self.results`` from a checked prediction / label pair).
    """

    kinds: Tuple[str, ...] = ()

    def __init__(self, task: str, collect_device: str = 'cpu', prefix: Optional[str] = None):
        spec = TASK_SPECS.get(task)
        if spec is None or spec.kind not in self.kinds:
            fitting = [n for n, s in TASK_SPECS.items() if s.kind in self.kinds]
            raise ValueError(f'{type(self).__name__}: task {task!r} is not one of {fitting}')
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        self.task = task

    @property
    def spec(self) -> TaskSpec:
        return TASK_SPECS[self.task]

    def skip_reason(self, sample: dict) -> Optional[str]:
        """Why ``sample`` is not scored (``None``: it is)."""
        tasks = sample.get('tasks')
        if tasks is not None and self.task not in tasks:
            return f'not labelled {self.task}'
        if sample.get(self.spec.gt_field) is None:
            return f'no {self.spec.gt_field}'
        if sample.get(self.spec.pred_field) is None:
            return f'no {self.spec.pred_field}'
        return None

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            reason = self.skip_reason(sample)
            if reason is not None:
                self.results.append(dict(skipped=reason))
                continue
            pred = _data(sample[self.spec.pred_field])
            gt = _data(sample[self.spec.gt_field])
            where = sample.get('img_path')
            if pred.shape[-2:] != gt.shape[-2:]:
                raise ValueError(
                    f'{type(self).__name__}: {self.spec.pred_field} of {where} has size '
                    f'{tuple(pred.shape[-2:])} but {self.spec.gt_field} has '
                    f'{tuple(gt.shape[-2:])}; predictions must be at the original size')
            if pred.is_floating_point() and not torch.isfinite(pred).all():
                raise ValueError(f'{type(self).__name__}: {self.spec.pred_field} of {where} '
                                 'contains NaN or inf')
            self.results.append(self.score(pred, gt, where))

    @abstractmethod
    def score(self, pred: torch.Tensor, gt: torch.Tensor, where) -> dict:
        """The result entry of one sample's prediction and label (same [C, H, W] size)."""

    def scored(self, results: List[dict]) -> List[dict]:
        """The scored entries of ``results``; logs the scored and skipped counts."""
        scored = [r for r in results if 'skipped' not in r]
        reasons: Dict[str, int] = {}
        for r in results:
            if 'skipped' in r:
                reasons[r['skipped']] = reasons.get(r['skipped'], 0) + 1
        detail = ', '.join(f'{n} {why}' for why, n in sorted(reasons.items()))
        MMLogger.get_current_instance().info(
            f'{type(self).__name__} ({self.task}): {len(scored)} images scored, '
            f'{len(results) - len(scored)} samples skipped' + (f' ({detail})' if detail else ''))
        return scored

    def channels(self, x: torch.Tensor, n: int, what: str, where) -> torch.Tensor:
        """``x`` as [n, H, W] ([H, W] is accepted when ``n == 1``)."""
        if x.ndim == 2 and n == 1:
            x = x[None]
        if x.ndim != 3 or x.shape[0] != n:
            raise ValueError(f'{type(self).__name__}: {what} of {where} must be [{n}, H, W], '
                             f'got shape {tuple(x.shape)}')
        return x


def _data(field) -> torch.Tensor:
    """The tensor of a ``PixelData`` field as ``to_dict`` gives it (``{'data': ...}``)."""
    data = field['data'] if isinstance(field, dict) else field.data
    return torch.as_tensor(data).detach().cpu()


def _nan_warning(metric: str, what: str) -> None:
    MMLogger.get_current_instance().warning(f'{metric}: {what}; its metrics are NaN')


# ---------------------------------------------------------------- segmentation


@METRICS.register_module()
class SegMetric(_DenseTaskMetric):
    """Mean intersection over union of a class-index map (task ``'seg'``; ``'parts'`` and
    ``'sal'`` with ``task=``).

    Protocol: the prediction ``pred_<task>.data`` is a class-index map [1, H, W] (integer
    values in ``[0, num_classes)``), the label ``gt_<task>.data`` [1, H, W] with
    ``ignore_index`` (default: the task's ``TASK_SPECS`` ignore value, 255) for unlabelled
    pixels, which are left out. Every scored image adds its confusion matrix
    ``C[gt, pred]`` (``torch.bincount``; stored sparse, only its non-zero entries) to the
    dataset's; then, per class c, ``IoU_c = C[c, c] / (sum_j C[c, j] + sum_i C[i, c] -
    C[c, c])`` over the whole set (not per image). A class absent from both the labels and
    the predictions of the whole set has union 0: its IoU is NaN and left out of the mean
    (``mIoU = nanmean(IoU)``), as :class:`mmseg.evaluation.IoUMetric` does; a class that is
    predicted but never labelled has IoU 0 and counts. ``aAcc`` = correctly classified
    labelled pixels / labelled pixels. The per-class IoU and accuracy are logged.

    Differences from mmseg's ``IoUMetric``: fractions in [0, 1] instead of percent rounded
    to 0.01; a prediction or label value outside ``[0, num_classes)`` (other than the
    ignore index) raises instead of silently dropping out of the histograms.

    Keys: ``<prefix>/mIoU``, ``<prefix>/aAcc`` (default prefix: the task name).

    Args:
        task: ``'seg'``, ``'parts'`` or ``'sal'``.
        num_classes: number of classes; default ``len(dataset_meta['classes'])``, allowed
            only for ``'seg'`` (the dataset's classes are the semantic classes; set it for
            the other tasks, e.g. 2 for saliency).
        ignore_index: label value left out (default: the task's ignore value).
        collect_device, prefix: as :class:`mmengine.evaluator.BaseMetric`.
    """

    kinds = ('label_map',)

    def __init__(self, task: str = 'seg', num_classes: Optional[int] = None,
                 ignore_index: Optional[int] = None, collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(task, collect_device=collect_device, prefix=prefix)
        if task == 'edge':
            raise ValueError('SegMetric: edges are scored by EdgeMetric')
        if num_classes is None and task != 'seg':
            raise ValueError(f'SegMetric: set num_classes for task {task!r} (the dataset\'s '
                             "'classes' are the semantic classes)")
        if num_classes is not None and num_classes < 1:
            raise ValueError(f'SegMetric: num_classes must be positive, got {num_classes}')
        self._num_classes = num_classes
        self.ignore_index = self.spec.ignore_value if ignore_index is None else ignore_index

    @property
    def num_classes(self) -> int:
        if self._num_classes is not None:
            return self._num_classes
        classes = (self.dataset_meta or {}).get('classes')
        if not classes:
            raise ValueError("SegMetric: num_classes not given and dataset_meta has no "
                             "'classes'")
        return len(classes)

    def score(self, pred: torch.Tensor, gt: torch.Tensor, where) -> dict:
        n = self.num_classes
        pred = self.channels(pred, 1, self.spec.pred_field, where).reshape(-1)
        gt = self.channels(gt, 1, self.spec.gt_field, where).reshape(-1)
        if pred.is_floating_point():
            if not (pred == pred.round()).all():
                raise ValueError(f'SegMetric: {self.spec.pred_field} of {where} must hold '
                                 'class indices, not scores')
        valid = gt != self.ignore_index
        gt, pred = gt[valid].long(), pred[valid].long()
        for values, what in ((gt, self.spec.gt_field), (pred, self.spec.pred_field)):
            if values.numel() and (values.min() < 0 or values.max() >= n):
                raise ValueError(
                    f'SegMetric: {what} of {where} has values in [{int(values.min())}, '
                    f'{int(values.max())}], outside [0, {n}) (ignore {self.ignore_index})')
        counts = torch.bincount(gt * n + pred, minlength=n * n)
        index = counts.nonzero().reshape(-1)
        return dict(num_classes=n, index=index.numpy(), count=counts[index].numpy())

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        scored = self.scored(results)
        if not scored:
            _nan_warning('SegMetric', f'no image scored for {self.task}')
            return dict(mIoU=float('nan'), aAcc=float('nan'))
        n = scored[0]['num_classes']
        if any(r['num_classes'] != n for r in scored):
            raise ValueError('SegMetric: results with different numbers of classes')
        confusion = np.zeros(n * n, dtype=np.int64)
        np.add.at(confusion, np.concatenate([r['index'] for r in scored]),
                  np.concatenate([r['count'] for r in scored]).astype(np.int64))
        iou, acc, all_acc = confusion_to_iou(confusion.reshape(n, n))
        if np.isnan(iou).all():
            _nan_warning('SegMetric', 'no labelled pixel and no prediction in any class')
            miou = float('nan')
        else:
            miou = float(np.nanmean(iou))
        meta = self.dataset_meta or {}   # a mixture names each task's classes
        names = meta.get(f'{self.task}_classes') or (
            meta.get('classes') if self.task == 'seg' else None)
        if not names or len(names) != n:
            names = [str(c) for c in range(n)]
        width = max(len('class'), *(len(str(s)) for s in names))
        lines = [f'{"class":<{width}}  IoU     Acc']
        lines += [f'{str(s):<{width}}  {i:.4f}  {a:.4f}' for s, i, a in zip(names, iou, acc)]
        mean_acc = float(np.nanmean(acc)) if not np.isnan(acc).all() else float('nan')
        logger.info(f'SegMetric ({self.task}) per class (NaN: class absent from labels and '
                    f'predictions; left out of the mean):\n' + '\n'.join(lines) +
                    f'\nmIoU {miou:.4f}  aAcc {all_acc:.4f}  mAcc {mean_acc:.4f}')
        return dict(mIoU=miou, aAcc=all_acc)


def confusion_to_iou(confusion: np.ndarray) -> Tuple[np.ndarray, np.ndarray, float]:
    """Per-class IoU and accuracy (NaN where undefined) and the pixel accuracy of a
    confusion matrix ``confusion[gt, pred]``."""
    confusion = confusion.astype(np.float64)
    tp = np.diag(confusion)
    labelled, predicted = confusion.sum(1), confusion.sum(0)
    union = labelled + predicted - tp
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = np.where(union > 0, tp / union, np.nan)
        acc = np.where(labelled > 0, tp / labelled, np.nan)
    total = confusion.sum()
    return iou, acc, float(tp.sum() / total) if total > 0 else float('nan')


# ---------------------------------------------------------------- depth


@METRICS.register_module()
class DepthMetric(_DenseTaskMetric):
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
        pred = self.channels(pred, 1, 'pred_depth', where).double().reshape(-1)
        gt = self.channels(gt, 1, 'gt_depth', where).double().reshape(-1)
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
                _nan_warning('DepthMetric', 'no valid depth pixel in the scored images')
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
            _nan_warning('DepthMetric', 'no image with a valid depth pixel')
            return {k: float('nan') for k in keys}
        per_image = np.array([[math.sqrt(r['sq'] / r['n']), r['rel'] / r['n']] +
                              [d / r['n'] for d in r['delta']] for r in images])
        return dict(zip(keys, (float(v) for v in per_image.mean(0))))


# ---------------------------------------------------------------- surface normals


@METRICS.register_module()
class NormalMetric(_DenseTaskMetric):
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
        pred = self.channels(pred, 3, 'pred_normal', where).double().reshape(3, -1)
        gt = self.channels(gt, 3, 'gt_normal', where).double().reshape(3, -1)
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
            _nan_warning('NormalMetric', 'no valid normal pixel in the scored images')
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


# ---------------------------------------------------------------- edges

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


def match_edges(pred: np.ndarray, gt: np.ndarray, max_dist_px: float) -> int:
    """Size of a maximum one-to-one matching between the pixels of the binary maps
    ``pred`` and ``gt`` ([H, W]), pairs at Euclidean distance <= ``max_dist_px``.

    Candidate pairs come from a k-d tree (:meth:`scipy.spatial.cKDTree.
    sparse_distance_matrix`). A greedy start (vectorised rounds: each unmatched pred pixel
    proposes to its nearest unmatched gt pixel, each gt pixel accepts its nearest proposer;
    at most 20 rounds) is completed by depth-first augmenting-path searches from the
    unmatched pixels of the side with fewer of them (each pixel visited once per round,
    rounds until one finds none), so the result is a maximum-cardinality matching
    (Berge). BSDS's ``correspondPixels`` minimises the total distance plus 100 x radius
    per unmatched pixel of either map, which gives the same number of matches unless adding
    one would move about 200 matched pairs; which pixels pair up can differ. (scipy's
    ``maximum_bipartite_matching`` / ``min_weight_full_bipartite_matching`` are not used:
    their Hopcroft-Karp search takes time exponential in the depth of layered graphs, scipy
    issue 26147, and did not return on a 240 x 320 edge map.)
    """
    from scipy.spatial import cKDTree

    p_xy, g_xy = np.argwhere(pred), np.argwhere(gt)
    if len(p_xy) == 0 or len(g_xy) == 0:
        return 0
    pairs = cKDTree(p_xy).sparse_distance_matrix(cKDTree(g_xy), max_dist_px + 1e-9,
                                                 output_type='ndarray')
    if len(pairs) == 0:
        return 0
    # nearest first (squared distances are integers), then by pred index
    order = np.argsort(np.rint(pairs['v']**2).astype(np.int64) * len(p_xy) + pairs['i'],
                       kind='stable')
    pi, gi = pairs['i'][order], pairs['j'][order]
    match_p = np.full(len(p_xy), -1, dtype=np.int64)
    match_g = np.full(len(g_xy), -1, dtype=np.int64)
    for _ in range(20):
        free = (match_p[pi] < 0) & (match_g[gi] < 0)
        if not free.any():
            break
        fp, fg = pi[free], gi[free]
        first = np.sort(np.unique(fp, return_index=True)[1])   # each pred's nearest, by distance
        cp, cg = fp[first], fg[first]
        accepted = np.unique(cg, return_index=True)[1]          # each gt's nearest proposer
        match_p[cp[accepted]], match_g[cg[accepted]] = cg[accepted], cp[accepted]
    # augment from the side with fewer unmatched pixels that have a candidate
    free_p = np.unique(pi[match_p[pi] < 0]).size
    free_g = np.unique(gi[match_g[gi] < 0]).size
    if free_g < free_p:
        pi, gi, match_p, match_g = gi, pi, match_g, match_p
    by_left = np.argsort(pi, kind='stable')
    indptr = np.concatenate([[0], np.cumsum(np.bincount(pi, minlength=len(match_p)))])
    found = _augment(indptr.tolist(), gi[by_left].tolist(), match_p.tolist(), match_g.tolist())
    return int((match_p >= 0).sum()) + found


def _augment(indptr: List[int], indices: List[int], match_left: List[int],
             match_right: List[int]) -> int:
    """Complete the matching ``match_left`` / ``match_right`` (lists, -1 = unmatched;
    updated in place) of the bipartite graph whose left vertex u is joined to the right
    vertices ``indices[indptr[u]:indptr[u + 1]]`` to a maximum one; returns the number of
    matches added. Rounds of depth-first augmenting-path searches from every unmatched
    left vertex, each right vertex visited at most once per round; stops after a round
    that finds none (then no augmenting path exists)."""
    added = 0
    while True:
        visited = bytearray(len(match_right))
        found = 0
        for root in range(len(match_left)):
            if match_left[root] >= 0 or indptr[root] == indptr[root + 1]:
                continue
            stack = [[root, indptr[root]]]  # [left vertex, next edge to try]
            while stack:
                top = stack[-1]
                u, k = top
                if k == indptr[u + 1]:
                    stack.pop()
                    continue
                top[1] = k + 1
                v = indices[k]
                if visited[v]:
                    continue
                visited[v] = 1
                if match_right[v] >= 0:
                    stack.append([match_right[v], indptr[match_right[v]]])
                    continue
                for u_i, next_k in stack:  # augment: each level takes the edge it tried
                    v_i = indices[next_k - 1]
                    match_left[u_i], match_right[v_i] = v_i, u_i
                found += 1
                break
        if not found:
            return added
        added += found


def _fmeasure(p: np.ndarray, r: np.ndarray) -> np.ndarray:
    s = p + r
    return np.where(s > 0, 2 * p * r / np.where(s > 0, s, 1), 0.0)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (the BSDS convention)."""
    return np.where(den > 0, num / np.maximum(den, 1), 0.0)


@METRICS.register_module()
class EdgeMetric(_DenseTaskMetric):
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
        prob = self.channels(pred, 1, 'pred_edge', where)[0].double().numpy()
        label = self.channels(gt, 1, 'gt_edge', where)[0].long().numpy()
        if prob.size and (prob.min() < 0 or prob.max() > 1):
            raise ValueError(f'EdgeMetric: pred_edge of {where} must hold probabilities in '
                             f'[0, 1], got values in [{prob.min():g}, {prob.max():g}]')
        ignore = label == self.ignore_index
        if not np.isin(label[~ignore], (0, 1)).all():
            raise ValueError(f'EdgeMetric: gt_edge of {where} must hold 0, 1 or '
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
            _nan_warning('EdgeMetric', 'no image scored')
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
