"""Hooks that feed and log the multi-task balancer."""
import math
from typing import Dict, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log

from mtlunder.registry import HOOKS


def _balancer(runner):
    from mtlunder.engine.multitask_step import get_balancer

    return get_balancer(runner.model)


@HOOKS.register_module()
class BalancerHook(Hook):
    """Logs each task's weight every iteration as the message hub scalar
    ``train/weight_<task>`` and closes the balancer's epoch (``epoch_end``: DWA's loss
    history, KPI balancers' warm-up counter) after every training epoch."""

    priority = 'NORMAL'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None):
        balancer = _balancer(runner)
        for task, weight in balancer.last_weights.items():
            runner.message_hub.update_scalar(f'train/weight_{task}', weight)

    def after_train_epoch(self, runner):
        _balancer(runner).epoch_end()


@HOOKS.register_module()
class TaskKPIHook(Hook):
    """Feeds validation metrics to KPI balancers (DTP, AMTL) once per validation.

    Args:
        kpi_keys: ``{task: metric key}``, e.g. ``dict(det='coco/bbox_mAP', enh='enh/ssim')``.
        kpi_scales: optional ``{task: divisor}`` mapping a metric into ``[0, 1]`` (e.g.
            ``enh=40.0`` for PSNR in dB); default 1.

    The values come from rank 0 (``broadcast_object_list``) so every rank updates its
    balancer with identical KPIs. Before training, potentials the balancer read from a file
    must name the same metric and scale per task (:meth:`check_potential_keys`).
    """

    priority = 'LOW'

    def __init__(self, kpi_keys: Dict[str, str], kpi_scales: Optional[Dict[str, float]] = None):
        if not kpi_keys:
            raise ValueError('TaskKPIHook needs kpi_keys, e.g. dict(det="coco/bbox_mAP")')
        self.kpi_keys = dict(kpi_keys)
        self.kpi_scales = dict(kpi_scales or {})

    def kpis_from_metrics(self, metrics: Dict[str, float]) -> Dict[str, float]:
        """``{task: metric / scale}`` for the configured keys present in ``metrics``."""
        kpis, missing = {}, []
        for task, key in self.kpi_keys.items():
            if key not in metrics:
                missing.append(f'{task}:{key}')
                continue
            value = float(metrics[key]) / float(self.kpi_scales.get(task, 1.0))
            if not math.isfinite(value):
                raise ValueError(f'TaskKPIHook: metric {key!r} of task {task!r} is {value}')
            kpis[task] = min(max(value, 0.0), 1.0)
        if missing:
            print_log(f'TaskKPIHook: metrics {missing} not found among {sorted(metrics)}; '
                      'those tasks keep their previous KPI', logger='current', level=30)
        return kpis

    def check_potential_keys(self, balancer) -> None:
        """Potentials read from a file (``balancer.kpi_keys``) must be the same metric, with
        the same scale, as this hook's KPI of the task; raise ``ValueError`` otherwise."""
        for task, key in getattr(balancer, 'kpi_keys', {}).items():
            scale = float(balancer.kpi_scales.get(task, 1.0))
            ours = (self.kpi_keys.get(task), float(self.kpi_scales.get(task, 1.0)))
            if ours != (key, scale):
                raise ValueError(
                    f'{type(balancer).__name__} reads the potential of task {task!r} as '
                    f'{key!r} / {scale:g}, but TaskKPIHook measures its KPI as '
                    f'{ours[0]!r} / {ours[1]:g}; set the same kpi_keys (and kpi_scales) in both')

    def before_train(self, runner) -> None:
        self.check_potential_keys(_balancer(runner))

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None):
        from mmengine.dist import broadcast_object_list, get_world_size

        kpis = [self.kpis_from_metrics(metrics or {})]
        if get_world_size() > 1:
            broadcast_object_list(kpis, src=0)
        if kpis[0]:
            _balancer(runner).update_kpis(kpis[0])
