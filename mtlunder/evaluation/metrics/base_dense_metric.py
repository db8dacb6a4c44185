"""The base of the dense multi-task metrics: segmentation (semantic and part), saliency,
depth, surface normals and edges (``docs/metrics.md``, section "Dense metrics", lists every
convention).

Shared protocol of the dense metrics:
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
from abc import abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mtlunder.structures.task_specs import TASK_SPECS, TaskSpec


class BaseDenseMetric(BaseMetric):
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
            pred = field_data(sample[self.spec.pred_field])
            gt = field_data(sample[self.spec.gt_field])
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


def field_data(field) -> torch.Tensor:
    """The tensor of a ``PixelData`` field as ``to_dict`` gives it (``{'data': ...}``)."""
    data = field['data'] if isinstance(field, dict) else field.data
    return torch.as_tensor(data).detach().cpu()


def nan_warning(metric: str, what: str) -> None:
    """Log that ``metric`` has nothing to score (``what``): its metrics are NaN."""
    MMLogger.get_current_instance().warning(f'{metric}: {what}; its metrics are NaN')
