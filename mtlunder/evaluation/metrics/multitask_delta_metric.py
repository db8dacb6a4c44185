"""``multitask/delta_m``: the multi-task delta against recorded single-task runs, at every
validation."""
from typing import Dict, List, Optional, Sequence

from mmengine.logging import MMLogger

from mtlunder.registry import METRICS
from ..multitask_delta import (delta_m, fill_missing, relative_changes, select_baselines,
                               task_deltas)
from ..single_task_results import load_single_task_results
from .wrapper_metric import WrapperMetric


@METRICS.register_module()
class MultiTaskDeltaMetric(WrapperMetric):
    """Run several metrics and add the multi-task delta of their results.

    Adds ``multitask/delta_m`` (:func:`~mtlunder.evaluation.multitask_delta.delta_m`, a
    fraction, higher is better: ``save_best='multitask/delta_m', rule='greater'`` works)
    and ``multitask/delta_<task>`` (each task's mean signed relative change). The wrapped
    metrics' keys are returned unchanged.

    The single-task values come from ``single_task_results``, read when the metric is built
    (a missing file raises ``FileNotFoundError`` naming the command that writes it; a task,
    key or direction it cannot resolve raises naming it). A key missing from the results
    at a validation is logged as a warning; a higher-is-better one counts as 0 (no
    achievement, as :class:`CombinedScoreMetric`: mmdet's ``CocoMetric`` reports nothing
    while the detector finds no box), a lower-is-better one makes the delta NaN. A NaN
    metric (nothing scored) makes it NaN too.

    Args:
        metrics: configs of the wrapped metrics.
        single_task_results: path of ``single_task_results.json``
            (``tools/analysis/record_single_task.py``).
        delta_keys: ``{task: [metric key, ...]}``, e.g.
            ``dict(det=['coco/bbox_mAP'], depth=['depth/rmse'])``.
        collect_device, prefix: as :class:`BaseMetric` (default prefix ``'multitask'``).
    """

    default_prefix: Optional[str] = 'multitask'

    def __init__(self, metrics: Sequence[dict], single_task_results: str,
                 delta_keys: Dict[str, Sequence[str]], collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(metrics, collect_device=collect_device, prefix=prefix)
        self.baselines = select_baselines(load_single_task_results(single_task_results),
                                          delta_keys)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """``results``: one dict with the wrapped metrics' outputs ->
        ``{'delta_m': float, 'delta_<task>': float, ...}``."""
        values, missing = fill_missing(results[0], self.baselines)
        if missing:
            MMLogger.get_current_instance().warning(
                f'MultiTaskDeltaMetric: {missing} not among the wrapped metrics\' results '
                f'{sorted(results[0])}; a missing higher-is-better key counts as 0, a '
                'missing lower-is-better one makes the delta NaN')
        per_task = task_deltas(relative_changes(values, self.baselines))
        out = {f'delta_{task}': value for task, value in per_task.items()}
        out['delta_m'] = delta_m(values, self.baselines)
        return out
