"""The multi-task delta of Maninis et al. / Vandenhende et al. against recorded single-task
runs:

``Delta_m = (1/T) sum_t (1/M_t) sum_m (-1)^{l_{t,m}} (M_mt - M_st) / M_st``

over the tasks ``t`` and their chosen metrics ``m``, ``l_{t,m} = 1`` when lower is better
(:func:`~mtlunder.evaluation.metric_directions.lower_is_better`). A fraction: ``+0.02`` is
2 % better than the single-task runs on average, ``-0.02`` 2 % worse. The single-task values
``M_st`` come from ``single_task_results.json``
(:func:`~mtlunder.evaluation.single_task_results.record_single_task`).
"""
import math
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from .metric_directions import lower_is_better
from .single_task_results import load_single_task_results, read_run

Baselines = Dict[str, Dict[str, float]]


def select_baselines(results: dict, delta_keys: Mapping[str, Sequence[str]]) -> Baselines:
    """``{task: {key: M_st}}`` of ``delta_keys`` from loaded single-task results.

    Args:
        results: :func:`~mtlunder.evaluation.single_task_results.load_single_task_results`.
        delta_keys: ``{task: [metric key, ...]}``, e.g. ``dict(depth=['depth/rmse'])``.

    Raises:
        KeyError: a task without a recorded run, a key the run did not report, or a key of
            unknown direction (each named).
        ValueError: a baseline that is 0 or not finite (the relative change is undefined).
    """
    if not delta_keys:
        raise ValueError('delta_keys is empty; give {task: [metric key, ...]}')
    recorded = results['tasks']
    baselines: Baselines = {}
    for task, keys in delta_keys.items():
        if task not in recorded:
            raise KeyError(f'no recorded single-task run of task {task!r}; the results hold '
                           f'{sorted(recorded)}')
        if isinstance(keys, str) or not keys:
            raise ValueError(f'delta_keys[{task!r}] must be a non-empty list of metric keys, '
                             f'got {keys!r}')
        metrics = recorded[task]['metrics']
        baselines[task] = {}
        for key in keys:
            lower_is_better(key)
            if key not in metrics:
                raise KeyError(f'the single-task run of {task!r} ({recorded[task]["work_dir"]}) '
                               f'did not report {key!r}; it reported {sorted(metrics)}')
            value = float(metrics[key])
            if not math.isfinite(value) or value == 0:
                raise ValueError(f'single-task {key!r} of {task!r} is {value}: the relative '
                                 'change to it is undefined')
            baselines[task][key] = value
    return baselines


def fill_missing(values: Mapping[str, float], baselines: Baselines
                 ) -> Tuple[Dict[str, float], List[str]]:
    """``values`` with every baseline key present, and the keys that were missing.

    A missing higher-is-better key counts as 0 (no achievement, as in
    :class:`~mtlunder.evaluation.metrics.CombinedScoreMetric`: mmdet's ``CocoMetric``
    reports nothing while the detector finds no box); a missing lower-is-better key has no
    such value and is NaN, so the delta is NaN.
    """
    filled = dict(values)
    missing = [k for keys in baselines.values() for k in keys if k not in values]
    for key in missing:
        filled[key] = math.nan if lower_is_better(key) else 0.0
    return filled, missing


def relative_changes(values: Mapping[str, float], baselines: Baselines) -> Baselines:
    """``{task: {key: (-1)^l (M_mt - M_st) / M_st}}`` (positive = better than single-task).

    Args:
        values: the multi-task run's ``{key: M_mt}`` (every baseline key present).
        baselines: :func:`select_baselines`.
    """
    changes: Baselines = {}
    for task, keys in baselines.items():
        changes[task] = {}
        for key, single in keys.items():
            change = (float(values[key]) - single) / single
            changes[task][key] = -change if lower_is_better(key) else change
    return changes


def task_deltas(changes: Baselines) -> Dict[str, float]:
    """``{task: (1/M_t) sum_m change}``: each task's mean signed relative change."""
    return {task: sum(c.values()) / len(c) for task, c in changes.items()}


def delta_m(values: Mapping[str, float], baselines: Baselines) -> float:
    """``Delta_m`` (a fraction) of the multi-task ``values`` against ``baselines``."""
    per_task = task_deltas(relative_changes(values, baselines))
    return sum(per_task.values()) / len(per_task)


def _config_delta_keys(config_path: str) -> Dict[str, List[str]]:
    """``delta_keys`` of the ``MultiTaskDeltaMetric`` in a config's ``val_evaluator``."""
    from mmengine.config import Config

    pending, found = [Config.fromfile(config_path).get('val_evaluator')], []
    while pending:
        item = pending.pop()
        if isinstance(item, (list, tuple)):
            pending.extend(item)
        elif isinstance(item, dict):
            if item.get('type') == 'MultiTaskDeltaMetric':
                found.append(item['delta_keys'])
            pending.append(item.get('metrics'))
    if len(found) != 1:
        raise ValueError(f'{config_path}: {len(found)} MultiTaskDeltaMetric in val_evaluator; '
                         'give delta_keys')
    return {task: list(keys) for task, keys in found[0].items()}


def compare_run(work_dir: str, single_task_results: str,
                delta_keys: Optional[Mapping[str, Sequence[str]]] = None,
                checkpoint: str = 'last') -> dict:
    """A multi-task run's validation metrics against the recorded single-task runs.

    Args:
        work_dir: the multi-task run's work dir (read as
            :func:`~mtlunder.evaluation.single_task_results.read_run`).
        single_task_results: path of ``single_task_results.json``.
        delta_keys: ``{task: [metric key, ...]}``; default: those of the run's
            ``MultiTaskDeltaMetric``.
        checkpoint: ``'last'`` (its final state) or ``'best'`` of the multi-task run.

    Returns:
        ``dict(run, rows=[dict(task, key, lower_is_better, single, multi, change, signed)],
        task_deltas, delta_m, missing)``: ``change = (M_mt - M_st) / M_st``, ``signed`` its
        ``(-1)^l`` version; missing keys are filled as :func:`fill_missing`.
    """
    results = load_single_task_results(single_task_results)
    run = read_run(work_dir, checkpoint)
    if delta_keys is None:
        delta_keys = _config_delta_keys(run['config']['path'])
    baselines = select_baselines(results, delta_keys)
    values, missing = fill_missing(run['metrics'], baselines)
    changes = relative_changes(values, baselines)
    rows = []
    for task, keys in baselines.items():
        for key, single in keys.items():
            lower, signed = lower_is_better(key), changes[task][key]
            rows.append(dict(task=task, key=key, lower_is_better=lower, single=single,
                             multi=values[key], change=-signed if lower else signed,
                             signed=signed))
    return dict(run=run, rows=rows, task_deltas=task_deltas(changes),
                delta_m=delta_m(values, baselines), missing=missing)


def format_comparison(comparison: dict) -> str:
    """The Markdown table of :func:`compare_run`, percentages of the single-task values."""
    run = comparison['run']
    lines = [f'multi-task run: {run["work_dir"]} ({run["checkpoint"]["path"]}, '
             f'{run["validation"]["unit"]} {run["validation"]["step"]})', '',
             '| task | metric | better | single-task | multi-task | change | signed |',
             '|---|---|---|---|---|---|---|']
    for row in comparison['rows']:
        lines.append(f'| {row["task"]} | {row["key"]} | '
                     f'{"lower" if row["lower_is_better"] else "higher"} | '
                     f'{row["single"]:.4f} | {row["multi"]:.4f} | {100 * row["change"]:+.2f} % '
                     f'| {100 * row["signed"]:+.2f} % |')
    lines.append('')
    lines += [f'Delta_{task}: {100 * value:+.2f} %'
              for task, value in comparison['task_deltas'].items()]
    lines.append(f'delta_m: {100 * comparison["delta_m"]:+.2f} % '
                 '(mean over tasks of the signed changes; + = better than single-task)')
    if comparison['missing']:
        lines.append(f'not reported by the run: {comparison["missing"]} (higher-is-better '
                     'counted as 0, lower-is-better as NaN)')
    return '\n'.join(lines)
