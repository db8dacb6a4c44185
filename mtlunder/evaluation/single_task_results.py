"""Recorded single-task results: ``single_task_results.json`` written from the work dirs of
single-task runs of this code, never typed.

A work dir as mmengine leaves it::

    <work_dir>/<config name>.py               config of the latest run (not used)
    <work_dir>/last_checkpoint                path of the last regular checkpoint
    <work_dir>/epoch_<N>.pth | iter_<N>.pth   regular checkpoints
    <work_dir>/best_<key>_epoch_<N>.pth       CheckpointHook(save_best=<key>)
    <work_dir>/<timestamp>/vis_data/config.py     config of that run
    <work_dir>/<timestamp>/vis_data/scalars.json  one json record per line: training
                                                  records (with "iter") and validation
                                                  records ({metric: value, ..., "step"})

The run of a checkpoint is the ``<timestamp>`` that ends its ``meta.experiment_name``. Its
validation record is the one of that run whose ``step`` is the checkpoint's
``meta.epoch`` (``LoggerHook(log_metric_by_epoch=True)``, the default) or ``meta.iter``
(``log_metric_by_epoch=False``). The task is the one head of the run's ``model.heads``.

The file (``format_version`` 1)::

    {"format_version": 1, "checkpoint_selection": "best" | "last",
     "tasks": {"<task>": {
         "metrics": {"<key>": value, ...},     # the validation record, without step/time
         "validation": {"unit": "epoch" | "iter", "step": N, "scalars_file": path},
         "checkpoint": {"path": path, "sha256": hex},
         "config": {"path": path, "sha256": hex},
         "work_dir": path}}}
"""
import glob
import hashlib
import json
import math
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

from mtlunder.structures import TASK_NAMES

FORMAT_VERSION = 1
RECORD_TOOL = 'tools/analysis/record_single_task.py'
#: keys of a validation record that are not metrics
_NOT_METRICS = ('step', 'time', 'data_time')
_ENTRY_FIELDS = ('metrics', 'validation', 'checkpoint', 'config', 'work_dir')
_CHUNK = 1 << 20


def record_command(out_file: str = 'single_task_results.json') -> str:
    """The command that writes ``out_file``."""
    return f'python {RECORD_TOOL} WORK_DIR [WORK_DIR ...] --out {out_file}'


def missing_results_error(path: str) -> FileNotFoundError:
    """The error for a missing results file: it names the command that writes it."""
    return FileNotFoundError(
        f'single-task results file {path} does not exist; write it from the work dirs of '
        f'the single-task runs with `{record_command(path)}` (docs/metrics.md)')


def sha256_file(path: str, show_progress: bool = True) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (progress bar over the chunks)."""
    from mtlunder.data_converters.io import progress

    digest = hashlib.sha256()
    chunks = math.ceil(osp.getsize(path) / _CHUNK)
    with open(path, 'rb') as f:
        for chunk in progress(iter(lambda: f.read(_CHUNK), b''), total=chunks,
                              desc=f'sha256 {osp.basename(path)}',
                              enabled=show_progress and chunks > 16):
            digest.update(chunk)
    return digest.hexdigest()


def find_checkpoint(work_dir: str, checkpoint: str = 'best') -> str:
    """Path of the work dir's ``best_*.pth`` (exactly one) or of its ``last_checkpoint``."""
    if checkpoint == 'best':
        found = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')))
        if len(found) != 1:
            error = ValueError if found else FileNotFoundError
            raise error(f'{work_dir}: expected one best_*.pth (CheckpointHook save_best), '
                        f'found {[osp.basename(p) for p in found]}; use checkpoint="last" '
                        'or keep one')
        return found[0]
    if checkpoint != 'last':
        raise ValueError(f"checkpoint must be 'best' or 'last', got {checkpoint!r}")
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        raise FileNotFoundError(f'{work_dir}: no last_checkpoint file (no checkpoint saved)')
    with open(pointer) as f:
        recorded = f.read().strip()
    # a moved work dir keeps the file name: look for it here
    path = recorded if osp.isfile(recorded) else osp.join(work_dir, osp.basename(recorded))
    if not osp.isfile(path):
        raise FileNotFoundError(f'{work_dir}: last_checkpoint names {recorded}, which does '
                                'not exist (nor in the work dir)')
    return path


def validation_records(scalars_file: str) -> List[dict]:
    """The validation records of a ``scalars.json`` in file order (training records, which
    carry ``iter``, left out)."""
    with open(scalars_file) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [r for r in records if 'iter' not in r]


def _run_dir(work_dir: str, experiment_name: str, checkpoint: str) -> str:
    """``<work_dir>/<timestamp>`` of the run that saved ``checkpoint``."""
    runs = [d for d in sorted(os.listdir(work_dir))
            if osp.isfile(osp.join(work_dir, d, 'vis_data', 'scalars.json'))]
    own = [d for d in runs if experiment_name == d or experiment_name.endswith(f'_{d}')]
    if len(own) != 1:
        raise FileNotFoundError(
            f'{checkpoint} was saved by run {experiment_name!r}, but the work dir has '
            f'{len(own)} matching <timestamp>/vis_data/scalars.json among {runs}')
    return osp.join(work_dir, own[0])


def _model_tasks(cfg, config_path: str) -> Tuple[str, ...]:
    """Task names of a config's ``model.heads``."""
    heads = cfg.get('model', {}).get('heads')
    if not isinstance(heads, dict) or not heads:
        raise ValueError(f'{config_path}: the model ({cfg.get("model", {}).get("type")}) has '
                         'no `heads`, so its tasks are unknown')
    unknown = sorted(set(heads) - set(TASK_NAMES))
    if unknown:
        raise ValueError(f'{config_path}: heads {unknown} are not tasks of {TASK_NAMES}')
    return tuple(heads)


def read_run(work_dir: str, checkpoint: str = 'best') -> dict:
    """The tasks, config, checkpoint and validation metrics of a work dir's checkpoint.

    Args:
        work_dir: an mmengine work dir.
        checkpoint: ``'best'`` (the ``best_*.pth``) or ``'last'`` (``last_checkpoint``).

    Returns:
        ``dict(tasks, metrics, validation, checkpoint=dict(path), config=dict(path),
        work_dir)`` (absolute paths; the file entries without their sha256).

    Raises:
        FileNotFoundError: a missing work dir, checkpoint or run log.
        ValueError: several ``best_*.pth``; no validation record at the checkpoint's step, or
            several that differ; a config without ``model.heads``.
    """
    from mmengine.config import Config

    from mtlunder.compat import safe_load

    work_dir = osp.abspath(work_dir)
    if not osp.isdir(work_dir):
        raise FileNotFoundError(f'work dir {work_dir} does not exist')
    ckpt = find_checkpoint(work_dir, checkpoint)
    meta = safe_load(ckpt, map_location='cpu').get('meta', {})
    run_dir = _run_dir(work_dir, str(meta.get('experiment_name', '')), ckpt)
    config_path = osp.join(run_dir, 'vis_data', 'config.py')
    cfg = Config.fromfile(config_path)
    logger_cfg = cfg.get('default_hooks', {}).get('logger') or {}
    unit = 'epoch' if logger_cfg.get('log_metric_by_epoch', True) else 'iter'
    step = int(meta[unit])
    scalars = osp.join(run_dir, 'vis_data', 'scalars.json')
    found = [{k: v for k, v in r.items() if k not in _NOT_METRICS}
             for r in validation_records(scalars) if r['step'] == step]
    if not found:
        raise ValueError(f'{scalars} has no validation record at {unit} {step}, the '
                         f'{unit} of {ckpt}')
    if any(r != found[0] for r in found[1:]):
        raise ValueError(f'{scalars} has {len(found)} different validation records at '
                         f'{unit} {step} (the {unit} of {ckpt}): {found}; iteration-based '
                         'training logs every validation at epoch 0 unless '
                         'LoggerHook(log_metric_by_epoch=False)')
    return dict(tasks=_model_tasks(cfg, config_path), metrics=found[0],
                validation=dict(unit=unit, step=step, scalars_file=scalars),
                checkpoint=dict(path=ckpt), config=dict(path=config_path), work_dir=work_dir)


def record_single_task(work_dirs: Sequence[str], out_file: str, checkpoint: str = 'best',
                       show_progress: bool = True) -> dict:
    """Write ``out_file`` (atomically) from the work dirs of single-task runs.

    Args:
        work_dirs: one work dir per task.
        out_file: the json to write (see the module docstring).
        checkpoint: ``'best'`` or ``'last'``, for every run.
        show_progress: progress bars over the runs and the checkpoint hashing.

    Returns:
        The written results.

    Raises:
        ValueError: a run whose model has not exactly one task, or two runs of one task
            (both work dirs named); the errors of :func:`read_run`.
    """
    from mtlunder.data_converters.io import progress
    from mtlunder.fileio import atomic_write_text

    if not work_dirs:
        raise ValueError('record_single_task needs the work dirs of the single-task runs')
    runs: Dict[str, dict] = {}
    for work_dir in progress(work_dirs, desc='single-task runs', enabled=show_progress):
        run = read_run(work_dir, checkpoint)
        tasks = run.pop('tasks')
        if len(tasks) != 1:
            raise ValueError(f'{run["work_dir"]} is not a single-task run: its model has '
                             f'tasks {list(tasks)} ({run["config"]["path"]})')
        if tasks[0] in runs:
            raise ValueError(f'task {tasks[0]!r} is recorded by two runs: '
                             f'{runs[tasks[0]]["work_dir"]} and {run["work_dir"]}')
        runs[tasks[0]] = run
    for run in runs.values():
        for entry in (run['checkpoint'], run['config']):
            entry['sha256'] = sha256_file(entry['path'], show_progress)
    results = dict(format_version=FORMAT_VERSION, checkpoint_selection=checkpoint,
                   tasks=runs)
    atomic_write_text(out_file, json.dumps(results, indent=2) + '\n')
    return results


def load_single_task_results(path: str) -> dict:
    """Read and validate a file written by :func:`record_single_task`.

    Raises:
        FileNotFoundError: ``path`` does not exist (the message names the command that
            writes it).
        ValueError: not such a file (wrong version, task or field), naming what is wrong.
    """
    if not osp.isfile(path):
        raise missing_results_error(path)
    with open(path) as f:
        try:
            results = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{path} is not valid json: {err}') from err
    return check_single_task_results(results, path)


def check_single_task_results(results, path: str) -> dict:
    """Validate the parsed json ``results`` of the file ``path`` (named in the errors) as
    :func:`load_single_task_results` does, for a caller that has read the file already.

    Raises:
        ValueError: not such a file (wrong version, task or field), naming what is wrong.
    """
    if not isinstance(results, dict) or results.get('format_version') != FORMAT_VERSION:
        raise ValueError(f'{path} is not a single-task results file of format_version '
                         f'{FORMAT_VERSION}; write it with `{record_command(path)}`')
    tasks = results.get('tasks')
    if not isinstance(tasks, dict) or not tasks:
        raise ValueError(f'{path}: no recorded task')
    for task, entry in tasks.items():
        if task not in TASK_NAMES:
            raise ValueError(f'{path}: {task!r} is not a task of {TASK_NAMES}')
        missing = [k for k in _ENTRY_FIELDS if k not in entry]
        if missing:
            raise ValueError(f'{path}: task {task!r} lacks {missing}')
        metrics = entry['metrics']
        if not isinstance(metrics, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool)
                for v in metrics.values()):
            raise ValueError(f'{path}: metrics of task {task!r} must map keys to numbers')
        for name in ('checkpoint', 'config'):
            if not {'path', 'sha256'} <= set(entry[name]):
                raise ValueError(f'{path}: {name} of task {task!r} needs path and sha256')
    return results
