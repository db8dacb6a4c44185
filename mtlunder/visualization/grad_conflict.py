"""Gradient-conflict curves logged by ``GradConflictHook``, read from mmengine's
``scalars.json``: every ``conflict/cos_<a>_<b>`` (top panel) and
``conflict/frac_neg_<a>_<b>`` (bottom panel) over iterations."""
import glob
import json
import os.path as osp
from typing import Dict, List, Tuple

#: prefix of the scalars ``GradConflictHook`` logs
PREFIX = 'conflict/'


def find_scalars(work_dir: str) -> str:
    """Path of the scalars.json to read in ``work_dir`` (newest run when several)."""
    direct = osp.join(work_dir, 'vis_data', 'scalars.json')
    if osp.isfile(direct):
        return direct
    runs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not runs:
        raise FileNotFoundError(f'no vis_data/scalars.json under {work_dir!r}; train with '
                                "visualizer vis_backends=[dict(type='LocalVisBackend')]")
    return runs[-1]


def load_conflict_scalars(path: str) -> Dict[str, Tuple[List[int], List[float]]]:
    """``{key: (steps, values)}`` of the ``conflict/`` scalars, sorted by step.

    A step logged twice keeps its last value; malformed lines are skipped and counted.
    """
    series: Dict[str, Dict[int, float]] = {}
    bad = 0
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                step = int(record['step'])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                bad += 1
                continue
            for key, value in record.items():
                if key.startswith(PREFIX):
                    series.setdefault(key[len(PREFIX):], {})[step] = float(value)
    if bad:
        print(f'skipped {bad} malformed line(s) of {path}')
    if not series:
        raise ValueError(f'{path} has no {PREFIX}* scalars; was GradConflictHook enabled?')
    return {k: (sorted(v), [v[s] for s in sorted(v)]) for k, v in sorted(series.items())}


def plot_conflicts(series: Dict[str, Tuple[List[int], List[float]]], out_file: str) -> None:
    """Two panels, cosine (top) and fraction of conflicting tensors (bottom), saved as PNG."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, (ax_cos, ax_frac) = plt.subplots(2, 1, sharex=True, figsize=(8, 6))
    for key, (steps, values) in series.items():
        if key.startswith('cos_'):
            ax_cos.plot(steps, values, marker='.', label=key[len('cos_'):].replace('_', ' / '))
        elif key.startswith('frac_neg_'):
            ax_frac.plot(steps, values, marker='.',
                         label=key[len('frac_neg_'):].replace('_', ' / '))
    ax_cos.axhline(0.0, color='gray', lw=0.8)
    ax_cos.set_ylabel('cosine of task gradients')
    ax_cos.set_ylim(-1.05, 1.05)
    ax_frac.set_ylabel('fraction of conflicting tensors')
    ax_frac.set_ylim(-0.05, 1.05)
    ax_frac.set_xlabel('iteration')
    for ax in (ax_cos, ax_frac):
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(loc='best')
    fig.tight_layout()
    fig.savefig(out_file, dpi=120)
    plt.close(fig)
