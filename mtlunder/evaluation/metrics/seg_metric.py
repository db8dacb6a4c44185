"""Mean IoU of class-index maps: semantic segmentation, part segmentation and two-class
saliency maps (``docs/metrics.md``, section "Dense metrics")."""
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.logging import MMLogger

from mtlunder.registry import METRICS
from mtlunder.structures.task_specs import EDGE_TASK, SEMANTIC_TASK
from .base_dense_metric import BaseDenseMetric, nan_warning


@METRICS.register_module()
class SegMetric(BaseDenseMetric):
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
        if task == EDGE_TASK:
            raise ValueError('SegMetric: edges are scored by EdgeMetric')
        if num_classes is None and task != SEMANTIC_TASK:
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
            nan_warning('SegMetric', f'no image scored for {self.task}')
            return dict(mIoU=float('nan'), aAcc=float('nan'))
        n = scored[0]['num_classes']
        if any(r['num_classes'] != n for r in scored):
            raise ValueError('SegMetric: results with different numbers of classes')
        confusion = np.zeros(n * n, dtype=np.int64)
        np.add.at(confusion, np.concatenate([r['index'] for r in scored]),
                  np.concatenate([r['count'] for r in scored]).astype(np.int64))
        iou, acc, all_acc = confusion_to_iou(confusion.reshape(n, n))
        if np.isnan(iou).all():
            nan_warning('SegMetric', 'no labelled pixel and no prediction in any class')
            miou = float('nan')
        else:
            miou = float(np.nanmean(iou))
        meta = self.dataset_meta or {}   # a mixture names each task's classes
        names = meta.get(f'{self.task}_classes') or (
            meta.get('classes') if self.task == SEMANTIC_TASK else None)
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
