"""The page of a study: statistics over seeds from the results file of
:mod:`mtlunder.analysis.study`, as Markdown and a PNG bar chart.

Every number is computed from the records of the results file:

* per run and metric: mean, sample standard deviation (``statistics.stdev``, n - 1) and n
  over the seeds that reported the metric;
* per multi-task run (every run that is not a single-task reference) and seed: the
  multi-task delta (:func:`~mtlunder.evaluation.multitask_delta.delta_m`) against the
  means over seeds of the single-task runs, then mean, std and n of the per-seed values
  (a key the run did not report counts as :func:`~mtlunder.evaluation.multitask_delta.
  fill_missing` says: 0 when higher is better, NaN when lower is);
* per run and metric: the per-seed differences ``run - reference run`` over the seeds both
  finished, then their mean, std and n.
"""
import datetime
import math
import os
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence

#: cell of a statistic with no value
EMPTY = '—'


def stats(values: Sequence[float]) -> Dict[str, float]:
    """``dict(mean, std, n)``: mean and sample std (NaN below 2 values) of ``values``."""
    values = [float(v) for v in values]
    return dict(mean=statistics.fmean(values) if values else math.nan,
                std=statistics.stdev(values) if len(values) > 1 else math.nan, n=len(values))


def _by_run(results: dict) -> Dict[str, Dict[int, dict]]:
    """``{run: {seed: record}}`` in study order, seeds ascending."""
    out = {r['name']: {} for r in results['study']['runs']}
    for record in results['records']:
        out.setdefault(record['run'], {})[record['seed']] = record
    return {run: dict(sorted(seeds.items())) for run, seeds in out.items()}


def _baselines(study: dict, by_run: Dict[str, Dict[int, dict]]):
    """``({task: {key: mean over seeds}}, None)`` of the single-task runs, or
    ``(None, reason)``."""
    if not study['single_task_runs']:
        return None, 'the study names no single-task runs'
    baselines = {}
    for task, run in study['single_task_runs'].items():
        baselines[task] = {}
        for key in study['delta_keys'][task]:
            values = [r['metrics'][key] for r in by_run[run].values() if key in r['metrics']]
            if not values:
                return None, f'single-task run `{run}` has no finished seed reporting `{key}`'
            mean = statistics.fmean(values)
            if not math.isfinite(mean) or mean == 0:
                return None, (f'single-task `{key}` of `{run}` averages {mean}: the relative '
                              'change to it is undefined')
            baselines[task][key] = mean
    return baselines, None


def summarise(results: dict) -> dict:
    """Statistics of a results file (see the module docstring).

    Returns:
        ``dict(runs, metrics={run: {key: dict(mean, std, n, seeds, values)}},
        missing={run: {seed: [key]}} (keys the run reported at another seed, and the
        delta keys of its tasks, that its test at that seed did not report),
        delta=dict(baselines, reason, runs={run: dict(seeds, values, delta_m=stats,
        tasks={task: stats}, missing={seed: [key]})}), paired=dict(reference,
        runs={run: {key: dict(mean, std, n, seeds, values)}}))``; ``delta.baselines`` is
        None (with the ``reason``) when a single-task reference is missing.
    """
    from mtlunder.evaluation.multitask_delta import (delta_m, fill_missing,
                                                     relative_changes, task_deltas)

    study = results['study']
    by_run = _by_run(results)
    runs = list(by_run)
    metrics = {}
    for run, seeds in by_run.items():
        metrics[run] = {}
        for key in study['metrics']:
            found = [(s, r['metrics'][key]) for s, r in seeds.items() if key in r['metrics']]
            metrics[run][key] = dict(stats([v for _, v in found]), seeds=[s for s, _ in found],
                                     values=[v for _, v in found])

    references = set(study['single_task_runs'].values())
    delta_keys = {t: set(k) for t, k in study['delta_keys'].items()}
    gaps_by_run = {}
    for run, seeds in by_run.items():
        expected = {k for r in seeds.values() for k in r['metrics'] if k in study['metrics']}
        expected |= set().union(*[keys for task, keys in delta_keys.items()
                                  if run not in references
                                  or study['single_task_runs'][task] == run])
        gaps = {s: sorted(expected - set(r['metrics'])) for s, r in seeds.items()}
        if any(gaps.values()):
            gaps_by_run[run] = {s: keys for s, keys in gaps.items() if keys}

    baselines, reason = _baselines(study, by_run)
    delta_runs = {}
    for run in runs:
        if baselines is None or run in references or not by_run[run]:
            continue
        per_seed, per_task, missing = [], {t: [] for t in baselines}, {}
        for seed, record in by_run[run].items():
            values, lacking = fill_missing(record['metrics'], baselines)
            if lacking:
                missing[seed] = lacking
            per_seed.append(delta_m(values, baselines))
            for task, value in task_deltas(relative_changes(values, baselines)).items():
                per_task[task].append(value)
        delta_runs[run] = dict(seeds=list(by_run[run]), values=per_seed,
                               delta_m=stats(per_seed),
                               tasks={t: stats(v) for t, v in per_task.items()},
                               missing=missing)

    reference = study.get('reference_run')
    paired = {}
    if reference is not None:
        ref = by_run[reference]
        for run in runs:
            if run == reference:
                continue
            paired[run] = {}
            for key in study['metrics']:
                pairs = [(s, r['metrics'][key] - ref[s]['metrics'][key])
                         for s, r in by_run[run].items()
                         if s in ref and key in r['metrics'] and key in ref[s]['metrics']]
                paired[run][key] = dict(stats([d for _, d in pairs]),
                                        seeds=[s for s, _ in pairs], values=[d for _, d in pairs])
    return dict(runs=runs, metrics=metrics, missing=gaps_by_run,
                delta=dict(baselines=baselines, reason=reason, runs=delta_runs),
                paired=dict(reference=reference, runs=paired))


def _decimals(summary: dict, key: str) -> int:
    """2 for a metric whose values reach 10 (PSNR in dB), else 4."""
    values = [abs(v) for run in summary['metrics'].values() for v in run[key]['values']]
    return 2 if values and max(values) >= 10 else 4


def _num(value: float, decimals: int, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return 'n/a'
    return f'{value:{"+" if signed else ""}.{decimals}f}'


def format_stats(entry: dict, decimals: int, signed: bool = False,
                 percent: bool = False) -> str:
    """``'0.4730 ± 0.0120 (n=3)'``, ``'0.4730 (n=1)'`` or :data:`EMPTY`; ``percent``
    shows a fraction in % (2 decimals)."""
    if entry['n'] == 0:
        return EMPTY
    scale, unit = (100.0, ' %') if percent else (1.0, '')
    decimals = 2 if percent else decimals
    mean = _num(scale * entry['mean'], decimals, signed) + unit
    if entry['n'] < 2:
        return f'{mean} (n=1)'
    return f'{mean} ± {_num(scale * entry["std"], decimals)}{unit} (n={entry["n"]})'


def _arrow(key: str) -> str:
    from mtlunder.evaluation.metric_directions import lower_is_better

    return '↓' if lower_is_better(key) else '↑'


def _table(header: Sequence[str], rows: List[Sequence[str]]) -> List[str]:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    return lines + ['| ' + ' | '.join(row) + ' |' for row in rows]


def format_page(results: dict, summary: dict, results_file: Optional[str] = None,
                png_name: Optional[str] = None) -> str:
    """The Markdown page of a study."""
    study = results['study']
    keys = study['metrics']
    decimals = {k: _decimals(summary, k) for k in keys}
    records = results['records']
    n_pairs = len(study['seeds']) * len(study['runs'])
    source = f' from `{results_file}`' if results_file else ''
    lines = [f'# {study["title"]} (generated)', '',
             f'Generated by `python tools/analysis/run_study.py {study["file"]}`{source}; do '
             'not edit by hand: rerun the study (finished runs are read back) or '
             '`--report-only`.', '']
    if study.get('description'):
        lines += [study['description'].strip(), '']
    commits = sorted({(r['git']['commit'][:10], r['git']['dirty']) for r in records})
    walls = [sum(r['wall_time_s'].values()) for r in records]
    lines += [
        f'- Seeds: {", ".join(map(str, study["seeds"]))}; {len(records)} of {n_pairs} '
        '(run, seed) pairs finished.',
        f'- Each run is trained with `tools/train.py` and its {study["checkpoint"]} checkpoint '
        'tested with `tools/test.py` (the config\'s test split and evaluator).',
        '- Cells: mean ± sample standard deviation over the seeds (n = seeds that reported '
        'the value). ↑: higher is better, ↓: lower is better '
        '(`mtlunder/evaluation/metric_directions.py`).',
        '- Git commit(s) of the records: ' + (', '.join(
            f'`{c}`' + (' (uncommitted changes)' if d else '') for c, d in commits) or EMPTY)
        + '.',
        f'- Wall time: {sum(walls) / 3600:.2f} h in all' + (
            f', median {statistics.median(walls) / 60:.1f} min per (run, seed) '
            '(train + test).' if walls else '.'),
        f'- Generated {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC.', '']
    stale = [f'{r["run"]} seed {r["seed"]}' for r in records if r.get('stale')]
    if stale:
        lines += [f'**Stale records** (trained with another config than the study file now '
                  f'resolves, kept with `--stale keep`): {", ".join(stale)}.', '']
    left_out = results.get('left_out') or []
    if left_out:
        lines += ['**Finished runs left out** (rerun with `--stale rerun` to train them again, '
                  'or `--stale keep` to report them): ' + ', '.join(
                      f'{r["run"]} seed {r["seed"]} ({r["reason"]})' for r in left_out)
                  + '.', '']
    lines += ['## Runs', '']
    lines += _table(['run', 'config', 'cfg_options', 'seeds finished'], [
        [f'`{r["name"]}`' + (' (optional)' if r['optional'] else ''), f'`{r["config"]}`',
         ', '.join(f'`{k}={v}`' for k, v in r['cfg_options'].items()) or EMPTY,
         str(sum(rec['run'] == r['name'] for rec in records))] for r in study['runs']])

    lines += ['', '## Metrics', '']
    lines += _table(['run'] + [f'{k} {_arrow(k)}' for k in keys], [
        [f'`{run}`'] + [format_stats(summary['metrics'][run][k], decimals[k]) for k in keys]
        for run in summary['runs']])

    if summary['missing']:
        lines += ['', 'Not reported by a run\'s test (left out of the cells above; mmdet\'s '
                  '`CocoMetric` reports nothing when the detector finds no box): ' + '; '.join(
                      f'`{run}` seed {s}: {", ".join(k)}'
                      for run, seeds in summary['missing'].items() for s, k in seeds.items())
                  + '.']

    delta = summary['delta']
    lines += ['', '## Multi-task delta against the single-task runs', '']
    if delta['baselines'] is None:
        lines.append(f'Not computed: {delta["reason"]}.')
    else:
        refs = '; '.join(
            f'{task}: `{study["single_task_runs"][task]}` (' + ', '.join(
                f'{k} {_num(v, decimals.get(k, 4))}' for k, v in keys_.items()) + ')'
            for task, keys_ in delta['baselines'].items())
        lines += ['Delta_m = (1/T) sum_t (1/M_t) sum_m (-1)^l (M_run - M_single) / M_single '
                  '(`mtlunder.evaluation.multitask_delta`), per seed against the means over '
                  f'the seeds of the single-task runs ({refs}); then mean ± std over the '
                  'seeds. + = better than single-task.', '']
        tasks = list(delta['baselines'])
        lines += _table(['run'] + [f'Delta_{t}' for t in tasks] + ['Delta_m', 'per seed'], [
            [f'`{run}`'] + [format_stats(d['tasks'][t], 2, True, True) for t in tasks]
            + [format_stats(d['delta_m'], 2, True, True),
               ', '.join(f'{s}: {_num(100 * v, 2, True)} %'
                         for s, v in zip(d['seeds'], d['values']))]
            for run, d in delta['runs'].items()])
        missing = [f'`{run}` seed {s}: {", ".join(k)}' for run, d in delta['runs'].items()
                   for s, k in d['missing'].items()]
        if missing:
            lines += ['', 'Keys a run did not report (counted as 0 when higher is better, '
                      'NaN when lower is): ' + '; '.join(missing) + '.']

    paired = summary['paired']
    if paired['reference'] is not None:
        lines += ['', f'## Paired differences against `{paired["reference"]}`', '',
                  f'Per seed: run - `{paired["reference"]}` at the same seed; mean ± sample '
                  'std of the differences over the seeds both finished.', '']
        lines += _table(['run'] + [f'{k} {_arrow(k)}' for k in keys], [
            [f'`{run}`'] + [format_stats(d[k], decimals[k], signed=True) for k in keys]
            for run, d in paired['runs'].items()])
    if png_name:
        lines += ['', f'![{study["title"]}: mean and sample std over seeds]({png_name})']

    lines += ['', '## Records', '']
    ordered = sorted(records, key=lambda r: (r['seed'], summary['runs'].index(r['run'])))
    lines += _table(['run', 'seed'] + keys + ['train (min)', 'test (min)', 'commit',
                                              'checkpoint sha256', 'config hash'], [
        [f'`{r["run"]}`', str(r['seed'])]
        + [_num(r['metrics'][k], decimals[k]) if k in r['metrics'] else EMPTY for k in keys]
        + [f'{r["wall_time_s"]["train"] / 60:.1f}', f'{r["wall_time_s"]["test"] / 60:.1f}',
           f'`{r["git"]["commit"][:10]}`', f'`{r["checkpoint"]["sha256"][:12]}`',
           f'`{r["config_hash"][:12]}`'] for r in ordered])
    return '\n'.join(lines) + '\n'


def plot_study(summary: dict, keys: Sequence[str], path: str, title: str) -> None:
    """Bar chart (mean, error bar = sample std) of every metric and of Delta_m, written
    atomically to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from mtlunder.evaluation.metric_directions import lower_is_better
    from mtlunder.fileio import atomic_open

    panels = [(f'{k} ({"lower" if lower_is_better(k) else "higher"} is better)',
               {run: summary['metrics'][run][k] for run in summary['runs']}, 1.0)
              for k in keys]
    if summary['delta']['runs']:
        panels.append(('Delta_m (%) vs single-task', {
            run: d['delta_m'] for run, d in summary['delta']['runs'].items()}, 100.0))
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax, (name, entries, scale) in zip(axes.flat, panels):
        shown = [(run, e) for run, e in entries.items() if e['n'] > 0]
        x = range(len(shown))
        ax.bar(x, [scale * e['mean'] for _, e in shown],
               yerr=[scale * e['std'] if e['n'] > 1 else 0 for _, e in shown],
               capsize=4, color='tab:blue', alpha=0.8)
        ax.set_xticks(list(x), [f'{run}\nn={e["n"]}' for run, e in shown], fontsize=7)
        ax.axhline(0, color='black', linewidth=0.6)
        ax.set_title(name, fontsize=9)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis('off')
    fig.suptitle(f'{title}: mean ± sample std over seeds', fontsize=10)
    fig.tight_layout()
    try:
        with atomic_open(path, 'wb') as f:
            fig.savefig(f, format='png', dpi=110)
    finally:
        plt.close(fig)


def write_report(results: dict, page: str, results_file: Optional[str] = None) -> str:
    """Write the page (Markdown) and its PNG (same stem) atomically; the page text."""
    from mtlunder.fileio import atomic_write_text

    summary = summarise(results)
    os.makedirs(osp.dirname(osp.abspath(page)), exist_ok=True)
    png = osp.splitext(page)[0] + '.png'
    plot_study(summary, results['study']['metrics'], png, results['study']['title'])
    rel = osp.relpath(results_file, osp.dirname(osp.abspath(page))) if results_file else None
    text = format_page(results, summary, rel, osp.basename(png))
    atomic_write_text(page, text)
    return text
