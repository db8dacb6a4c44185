"""Balancers driven by validation KPIs: DTP (Guo et al., ECCV 2018) and AMTL (Yun & Cho,
ICCV 2023).

KPIs are task metrics in ``[0, 1]`` (higher is better) fed once per validation by the
``TaskKPIHook``: ``kappa_i <- (1 - m) kappa_i + m KPI_i`` with momentum ``m`` (the first
measurement initialises ``kappa_i``). Until a task has a KPI its weight is uniform.

Potentials ``p_i`` (single-task KPIs, AMTL always, DTP optionally) are given as numbers or
read from the recorded ``single_task_results.json``
(``tools/analysis/record_single_task.py``) with ``kpi_keys`` (and ``kpi_scales``), which
must be the ``TaskKPIHook``'s: the hook checks that before training.
"""
import json
import math
import os.path as osp
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor

from mtlunder.registry import BALANCERS
from .base import LossBalancer


class _KPIBalancer(LossBalancer):
    """KPI EMA shared by DTP and AMTL. Buffers: ``kpi_ema [T]``, ``kpi_seen [T]`` (bool),
    ``epoch`` (closed training epochs)."""

    def __init__(self, tasks: Sequence[str], momentum: float = 0.1,
                 potentials: Optional[Dict[str, float]] = None,
                 potentials_file: Optional[str] = None,
                 kpi_keys: Optional[Dict[str, str]] = None,
                 kpi_scales: Optional[Dict[str, float]] = None):
        super().__init__(tasks)
        if not 0 < momentum <= 1:
            raise ValueError(f'{type(self).__name__}: momentum must be in (0, 1], '
                             f'got {momentum}')
        self.momentum = float(momentum)
        n = len(self.tasks)
        self.register_buffer('kpi_ema', torch.zeros(n, dtype=torch.float64))
        self.register_buffer('kpi_seen', torch.zeros(n, dtype=torch.bool))
        self.register_buffer('epoch', torch.zeros((), dtype=torch.long))
        #: the TaskKPIHook settings the potentials were read with (checked by the hook)
        self.kpi_keys = dict(kpi_keys or {})
        self.kpi_scales = dict(kpi_scales or {})
        self.register_buffer('potentials', self._potentials(potentials, potentials_file))

    def _potentials(self, potentials: Optional[Dict[str, float]],
                    potentials_file: Optional[str]) -> Optional[Tensor]:
        """``[T]`` float64 potentials in ``(0, 1]``, or None when neither is given."""
        name = type(self).__name__
        if potentials is not None and potentials_file is not None:
            raise ValueError(f'{name}: give potentials or potentials_file, not both')
        if potentials_file is not None:
            potentials = load_potentials(potentials_file, self.kpi_keys, self.kpi_scales)
        if potentials is None:
            return None
        missing = [t for t in self.tasks if t not in potentials]
        if missing:
            raise KeyError(f'{name}: no potential (single-task KPI) for tasks {missing}'
                           + (f' in {potentials_file} (kpi_keys {self.kpi_keys})'
                              if potentials_file else ''))
        bad = {t: potentials[t] for t in self.tasks if not 0 < potentials[t] <= 1}
        if bad:
            raise ValueError(f'{name}: potentials are KPIs, in (0, 1]; got {bad} (map a '
                             'metric into [0, 1] with kpi_scales, as the TaskKPIHook)')
        return torch.tensor([float(potentials[t]) for t in self.tasks], dtype=torch.float64)

    def update_kpis(self, kpis: Dict[str, float]) -> None:
        for task, value in kpis.items():
            value = float(value)
            if not math.isfinite(value) or not 0.0 <= value <= 1.0:
                raise ValueError(f'{type(self).__name__}: KPI of task {task!r} must be in '
                                 f'[0, 1], got {value}')
            i = self.task_index(task)
            if self.kpi_seen[i]:
                self.kpi_ema[i] = (1 - self.momentum) * self.kpi_ema[i] + self.momentum * value
            else:
                self.kpi_ema[i] = value
                self.kpi_seen[i] = True

    def epoch_end(self) -> None:
        self.epoch += 1


@BALANCERS.register_module()
class DTP(_KPIBalancer):
    """Dynamic task prioritization: ``w_i = -(1 - k_i)^gamma log(k_i)``,
    ``L = sum_i w_i L_i``, ``k_i = kappa_i`` clamped to ``[eps, 1 - eps]``. Tasks without
    a KPI yet get weight 1.

    Off by default, as in the paper: with ``potentials`` or ``potentials_file`` (as
    :class:`AMTL`) the KPI is the achievement ``k_i = kappa_i / p_i`` (clamped), so a task
    counts as mastered when it reaches its single-task KPI rather than 1.
    """

    def __init__(self, tasks: Sequence[str], gamma: float = 1.0, momentum: float = 0.1,
                 eps: float = 1e-4, potentials: Optional[Dict[str, float]] = None,
                 potentials_file: Optional[str] = None,
                 kpi_keys: Optional[Dict[str, str]] = None,
                 kpi_scales: Optional[Dict[str, float]] = None):
        super().__init__(tasks, momentum, potentials, potentials_file, kpi_keys, kpi_scales)
        self.gamma = float(gamma)
        self.eps = float(eps)

    def all_weights(self) -> Tensor:
        kappa = self.kpi_ema if self.potentials is None else self.kpi_ema / self.potentials
        kappa = kappa.clamp(self.eps, 1 - self.eps)
        w = -(1 - kappa).pow(self.gamma) * kappa.log()
        return torch.where(self.kpi_seen, w, torch.ones_like(w))

    def weighted_loss(self, losses):
        values = self._stack(losses)
        w = self.all_weights()[self.indices(list(losses))].to(values)
        return (w * values).sum(), w


def load_potentials(path: str, kpi_keys: Optional[Dict[str, str]] = None,
                    kpi_scales: Optional[Dict[str, float]] = None) -> Dict[str, float]:
    """Read single-task KPIs (potentials) from a json file.

    Layouts: the recorded ``single_task_results.json`` (validated by
    :func:`~mtlunder.evaluation.single_task_results.check_single_task_results`, the checks
    of ``load_single_task_results``, on the json read once here), whose
    ``tasks.<task>.metrics[kpi_keys[task]]`` is read; ``{task: {metric_key: value}}``, read
    the same way; or ``{task: value}`` (the KPI itself). A metric is divided by
    ``kpi_scales[task]`` (default 1) and must be higher-is-better
    (:mod:`~mtlunder.evaluation.metric_directions`). With a metrics layout, only the tasks of
    ``kpi_keys`` are read.

    Raises:
        FileNotFoundError: ``path`` is missing (the message names the command that writes it).
    """
    from mtlunder.evaluation.metric_directions import lower_is_better
    from mtlunder.evaluation.single_task_results import (check_single_task_results,
                                                         missing_results_error)

    if not osp.isfile(path):
        raise missing_results_error(path)
    with open(path) as f:
        try:
            raw = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'potentials file {path} is not valid json: {err}') from err
    if isinstance(raw, dict) and 'format_version' in raw:
        raw = {task: entry['metrics']
               for task, entry in check_single_task_results(raw, path)['tasks'].items()}
    kpi_keys, kpi_scales = kpi_keys or {}, kpi_scales or {}
    out = {}
    for task, entry in raw.items():
        if not isinstance(entry, dict):
            out[task] = float(entry)
            continue
        if task not in kpi_keys:
            continue
        key = kpi_keys[task]
        if key not in entry:
            raise KeyError(f'{path}: task {task!r} has metrics {sorted(entry)}; set '
                           f'kpi_keys[{task!r}] to one of them (got {key!r})')
        if lower_is_better(key):
            raise ValueError(f'{path}: KPIs are higher-is-better; {key!r} of task {task!r} '
                             'is lower-is-better')
        out[task] = float(entry[key]) / float(kpi_scales.get(task, 1.0))
    return out


@BALANCERS.register_module()
class AMTL(_KPIBalancer):
    """Achievement-based multi-task loss.

    ``a_i = clamp(kappa_i / (p_i (1 + margin)), 0, 1 - 1e-6)``, ``v_i = (1 - a_i)^gamma``,
    ``w = normalize(v)`` summing to 1, with ``normalize`` = ``'sum'`` (``v / sum v``, the
    default: weights follow the achievements) or ``'softmax'`` (the public code's choice,
    which keeps weights within a factor ``e`` of uniform).

    ``form='geometric'``: ``L = prod_i L_i^(w_i) = exp(sum_i w_i log L_i)`` (log space);
    ``form='arithmetic'``: ``L = n sum_i w_i L_i``. Weights are uniform during the first
    ``warmup_epochs`` epochs; over the present tasks they are
    renormalised to sum to 1. Weights are uniform until every present task has a KPI.

    Args:
        potentials: ``{task: single-task KPI}`` in ``(0, 1]``; or give ``potentials_file``
            (the recorded ``single_task_results.json``, see :func:`load_potentials`) with
            ``kpi_keys`` (and ``kpi_scales``): the same as the ``TaskKPIHook``'s.
    """

    def __init__(self, tasks: Sequence[str], potentials: Optional[Dict[str, float]] = None,
                 potentials_file: Optional[str] = None,
                 kpi_keys: Optional[Dict[str, str]] = None,
                 kpi_scales: Optional[Dict[str, float]] = None, margin: float = 0.05,
                 gamma: float = 2.0, momentum: float = 0.1, warmup_epochs: int = 0,
                 normalize: str = 'sum', form: str = 'geometric'):
        if potentials is None and potentials_file is None:
            raise ValueError('AMTL needs potentials or potentials_file')
        super().__init__(tasks, momentum, potentials, potentials_file, kpi_keys, kpi_scales)
        if normalize not in ('sum', 'softmax'):
            raise ValueError(f"AMTL normalize must be 'sum' or 'softmax', got {normalize!r}")
        if form not in ('geometric', 'arithmetic'):
            raise ValueError(f"AMTL form must be 'geometric' or 'arithmetic', got {form!r}")
        self.margin = float(margin)
        self.gamma = float(gamma)
        self.warmup_epochs = int(warmup_epochs)
        self.normalize = normalize
        self.form = form

    def achievements(self) -> Tensor:
        """``[T]`` clamped achievements ``a_i`` (0 for tasks without a KPI)."""
        a = self.kpi_ema / (self.potentials * (1 + self.margin))
        return torch.where(self.kpi_seen, a, torch.zeros_like(a)).clamp(0.0, 1.0 - 1e-6)

    def task_weights(self, tasks: Sequence[str]) -> Tensor:
        """``[n]`` weights of ``tasks`` (sum 1)."""
        idx = self.indices(tasks)
        n = len(tasks)
        if int(self.epoch) < self.warmup_epochs or not bool(self.kpi_seen[idx].all()):
            return torch.full((n,), 1.0 / n, dtype=torch.float64)
        v = (1 - self.achievements()[idx]).pow(self.gamma)
        if self.normalize == 'softmax':
            return torch.softmax(v, 0)
        return v / v.sum().clamp_min(1e-12)

    def weighted_loss(self, losses):
        values = self._stack(losses)
        w = self.task_weights(list(losses)).to(values)
        if self.form == 'geometric':
            total = (w * self._safe_log(values)).sum().exp()
        else:
            total = len(w) * (w * values).sum()
        return total, w
