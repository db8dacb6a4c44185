"""Task-weight curves of a balancer run, read from mmengine's ``scalars.json``."""
import glob
import json
import os.path as osp
from typing import Dict, List, Tuple

#: prefix of the balancer weights in the training records (``BalancerHook`` publishes
#: ``train/weight_<task>``; the logger writes it without ``train/``)
WEIGHT_PREFIX = 'weight_'


def latest_scalars(work_dir: str) -> str:
    """The ``scalars.json`` of the newest run in ``work_dir``."""
    found = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')),
                   key=osp.getmtime)
    if not found:
        raise FileNotFoundError(f'{work_dir}: no <timestamp>/vis_data/scalars.json (not an '
                                'mmengine work dir, or the run logged nothing)')
    return found[-1]


def read_task_weights(scalars_file: str) -> Tuple[List[int], Dict[str, List[float]]]:
    """Training iterations and each task's weight at them (records without weights are
    skipped). Raises ``ValueError`` when no record has a weight (no ``BalancerHook``)."""
    steps, weights = [], {}
    with open(scalars_file) as f:
        for line in f:
            record = json.loads(line) if line.strip() else {}
            found = {k[len(WEIGHT_PREFIX):]: v for k, v in record.items()
                     if k.startswith(WEIGHT_PREFIX)}
            if 'iter' not in record or not found:
                continue
            steps.append(int(record['step']))
            for task, value in found.items():
                weights.setdefault(task, []).append(float(value))
    if not steps:
        raise ValueError(f'{scalars_file}: no training record with {WEIGHT_PREFIX}<task> '
                         '(add BalancerHook to custom_hooks)')
    return steps, weights


def plot_task_weights(work_dir: str, out_file: str) -> str:
    """Draw each task's weight against the iteration into ``out_file`` (png); its path."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    scalars = latest_scalars(work_dir)
    steps, weights = read_task_weights(scalars)
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=120)
    for task, values in weights.items():
        ax.plot(steps, values, label=task)
    ax.set_xlabel('iteration')
    ax.set_ylabel('task weight')
    ax.set_title(osp.basename(osp.normpath(work_dir)))
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_file)
    plt.close(fig)
    return out_file
