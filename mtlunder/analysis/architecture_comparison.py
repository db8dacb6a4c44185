"""Train, evaluate and measure several architectures on the same data and budget.

The logic of ``tools/analysis/compare_architectures.py``. For every config:

1. train it for ``iters`` iterations (:func:`short_budget_cfg`) with ``tools/train.py`` in a
   subprocess and evaluate it on the val split once; multi-task models get a
   ``GradConflictHook`` and the mean of the logged ``conflict/cos_det_enh`` is reported;
   with ``reuse_runs``, a finished run of the identical short config is read back
   (:func:`finished_run`);
2. count parameters and FLOPs of one ``shape`` image (:func:`mtlunder.analysis.flops.complexity`);
3. time the training step and inference of all configs in one process, interleaved, on
   random input (:func:`mtlunder.analysis.model_timing.time_rounds`); ratios are medians of
   per-round ratios (:func:`~mtlunder.analysis.model_timing.paired_ratio`). With ``ratio_sizes``,
   the inference of the first config and of each cascade is also timed at other sizes;
4. time the inference of the *trained* first config and cascades (last checkpoints) on the
   first val batch, where the NMS post-processing of a trained detector is loaded.

:func:`compare_architectures` writes the Markdown report (:func:`format_report`) with the
table, the command, the date, the machine and the short-budget disclaimer. The training
subprocesses and the timing use ``num_threads`` intra-op threads.
"""
import copy
import datetime
import glob
import json
import math
import os
import os.path as osp
import platform
import subprocess
import sys
import time
from types import SimpleNamespace
from typing import Dict, List, Optional, Sequence

import torch

from mtlunder.analysis.flops import complexity, infer_tasks
from mtlunder.analysis.model_timing import (infer_step_fn, paired_ratio, prepare, speed_row,
                                            time_rounds, train_step_fn)
from mtlunder.fileio import atomic_write_text
from mtlunder.structures import tasks_of_kind

DEFAULT_CONFIGS = [
    'configs/squad/squad-retinanet_r18_demo_underwater.py',
    'configs/squad/squad-retinanet_squadnet-tiny_demo_underwater.py',
    'configs/etr_nlp/etr-retinanet_r18_demo_underwater.py',
    'configs/etr_nlp/etr-retinanet_etr-nlp-net_demo_underwater.py',
    'configs/baselines/shared-fpn-retinanet_r18_demo_underwater.py',
    'configs/baselines/per-task-fpn-retinanet_r18_demo_underwater.py',
    'configs/baselines/single-det-retinanet_r18_demo_underwater.py',
    'configs/baselines/single-enh_r18_demo_underwater.py',
    'configs/baselines/cascade-enh-det_r18_demo_underwater.py',
]
#: report column -> scalar key logged by the evaluator / hook
METRIC_KEYS = {
    'mAP': 'coco/bbox_mAP',
    'mAP50': 'coco/bbox_mAP_50',
    'psnr': 'enh/psnr',
    'ssim': 'enh/ssim',
    'input_psnr': 'enh/input_psnr',
    'input_ssim': 'enh/input_ssim',
}
CONFLICT_KEY = 'conflict/cos_det_enh'
#: The boxes task (mAP) and the reference-image task (PSNR / SSIM), from the task table;
#: ``GradConflictHook`` runs on models that have both.
(BOXES_TASK, ) = tasks_of_kind('boxes')
(REFERENCE_TASK, ) = tasks_of_kind('image')


def config_name(path: str) -> str:
    """File name without extension (also the run's folder name)."""
    return osp.splitext(osp.basename(path))[0]


def short_budget_cfg(cfg, iters: int, batch_size: int, num_workers: int,
                     conflict_interval: Optional[int]):
    """Copy of ``cfg`` trained for ``iters`` iterations and validated once at the end.

    Linear warm-up (factor 0.01 -> 1) over the first ``max(1, iters // 5)`` iterations,
    then the config's learning rate; one checkpoint at the end, no best-checkpoint
    selection, seed 0. ``conflict_interval`` adds a ``GradConflictHook``.
    """
    cfg = copy.deepcopy(cfg)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters)
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
                                end=max(1, iters // 5))]
    for key in ('train_dataloader', 'val_dataloader'):
        loader = cfg[key]
        loader.num_workers = num_workers
        loader.persistent_workers = num_workers > 0
    cfg.train_dataloader.batch_size = batch_size
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=iters,
                                        max_keep_ckpts=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=min(10, iters))
    cfg.log_processor = dict(type='LogProcessor', window_size=10, by_epoch=False)
    cfg.randomness = dict(seed=0)
    if conflict_interval:
        hooks = [h for h in cfg.get('custom_hooks', []) if h['type'] != 'GradConflictHook']
        cfg.custom_hooks = hooks + [dict(type='GradConflictHook', interval=conflict_interval)]
    return cfg


def read_scalars(path: str) -> Dict[str, List[float]]:
    """``{key: [values in file order]}`` of a LocalVisBackend ``scalars.json``."""
    series: Dict[str, List[float]] = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                for key, value in json.loads(line).items():
                    if isinstance(value, (int, float)):
                        series.setdefault(key, []).append(float(value))
    return series


def summarise_run(scalars: Dict[str, List[float]]) -> Dict[str, float]:
    """Last value of each evaluator key and the mean logged det/enh gradient cosine."""
    result = {name: scalars[key][-1] for name, key in METRIC_KEYS.items() if key in scalars}
    conflicts = scalars.get(CONFLICT_KEY)
    if conflicts:
        result['cos'] = sum(conflicts) / len(conflicts)
        result['cos_n'] = len(conflicts)
    return result


def train_and_evaluate(cfg, name: str, work_dir: str, num_threads: int,
                       train_script: str) -> Dict[str, object]:
    """Run ``train_script`` (``tools/train.py``) on ``cfg`` (dumped to ``work_dir``) in the
    current directory, as the rest of the comparison reads paths; metrics of the run.

    Returns the :func:`summarise_run` dict plus ``train_wall_s``, or ``error`` (with the log
    path) when the subprocess fails.
    """
    os.makedirs(work_dir, exist_ok=True)
    cfg_path = osp.join(work_dir, f'{name}_short.py')
    cfg.dump(cfg_path)
    env = dict(os.environ, OMP_NUM_THREADS=str(num_threads), MKL_NUM_THREADS=str(num_threads))
    log_path = osp.join(work_dir, 'compare_stdout.log')
    start = time.perf_counter()
    with open(log_path, 'w') as log:
        proc = subprocess.run(
            [sys.executable, train_script, cfg_path, '--work-dir', work_dir], env=env,
            stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return dict(error=f'tools/train.py exited with {proc.returncode}; see {log_path}',
                    train_wall_s=wall)
    runs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not runs:
        return dict(error=f'no vis_data/scalars.json under {work_dir}', train_wall_s=wall)
    return dict(summarise_run(read_scalars(runs[-1])), train_wall_s=wall)


def finished_run(cfg, name: str, work_dir: str) -> Optional[Dict[str, object]]:
    """Metrics of an earlier run of exactly ``cfg`` in ``work_dir``, or None.

    The run counts when ``work_dir/{name}_short.py`` (the config :func:`train_and_evaluate`
    dumped, with the ``launcher`` and ``work_dir`` the runner adds) holds the settings of
    ``cfg`` and its last ``scalars.json`` holds evaluator metrics.
    """
    from mmengine.config import Config

    cfg_path = osp.join(work_dir, f'{name}_short.py')
    if not osp.isfile(cfg_path):
        return None
    dumped = Config.fromfile(cfg_path).to_dict()
    for key in ('launcher', 'work_dir'):
        dumped.pop(key, None)
    if dumped != Config.fromstring(cfg.pretty_text, '.py').to_dict():
        return None
    runs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    summary = summarise_run(read_scalars(runs[-1])) if runs else {}
    if not set(summary) & set(METRIC_KEYS):
        return None
    return dict(summary, reused=True)


def measure(cfgs: Sequence, shape: Sequence[int], batch_size: int, warmup: int,
            repeats: int) -> List[Dict[str, object]]:
    """Params, FLOPs (one image), train-step time and inference img/s of every config.

    Speed: all models built first, then timed round-robin (:mod:`mtlunder.analysis.model_timing`).
    """
    from mtlunder.registry import MODELS
    from mtlunder.structures.multitask_data_sample import MultiTaskDataSample

    h, w = shape
    rows = []
    for cfg in cfgs:
        model = MODELS.build(cfg.model)
        tasks = infer_tasks(model)
        sample = MultiTaskDataSample(metainfo=dict(
            img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w),
            scale_factor=(1.0, 1.0), tasks=tasks))
        with torch.no_grad():
            cost = complexity(model, torch.rand(1, 3, h, w), [sample], tasks)
        rows.append(dict(tasks=tasks, params=cost['total'][0], flops=cost['total'][1]))
    args = SimpleNamespace(input='random', batch_size=batch_size, shape=shape)
    device = torch.device('cpu')
    runs = [prepare(cfg, args, device) for cfg in cfgs]
    from mmengine.utils import ProgressBar

    progress = ProgressBar(2 * repeats * len(runs))
    train_s = time_rounds([train_step_fn(r) for r in runs], warmup, repeats, device, progress)
    test_s = time_rounds([infer_step_fn(r) for r in runs], warmup, repeats, device, progress)
    print()
    for row, tr, te in zip(rows, train_s, test_s):
        row.update(speed_row(batch_size, te, tr))
    return rows


def _fmt(value, spec: str) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 'n/a'
    return format(value, spec)


def ratio_line(joint: str, cascade: str, label: str, joint_row: dict,
               cascade_row: dict) -> str:
    """Verdict on the 1.5x inference target from one run's paired per-round times;
    ``label`` names the input (e.g. ``'random 256x256 input'``)."""
    ratio, q1, q3 = paired_ratio(cascade_row['infer_rounds'], joint_row['infer_rounds'])
    verdict = 'meets' if ratio >= 1.5 else 'misses'
    return (f'- Inference speed, `{joint}` (joint) vs `{cascade}` (cascade), {label}, same run: '
            f'**{ratio:.3f}x** (median of {len(joint_row["infer_rounds"])} per-round ratios, '
            f'interquartile range {q1:.3f}-{q3:.3f}; median speeds '
            f'{joint_row["images_per_s"]:.2f} vs {cascade_row["images_per_s"]:.2f} img/s): '
            f'{verdict} the 1.5x target.')


def speed_ratios(names: Sequence[str], rows: Sequence[dict], model_types: Sequence[str],
                 size: str, extra: Sequence[dict] = ()) -> List[str]:
    """Inference-speed ratio of the first config to every ``CascadeEnhanceDetect`` config,
    at the table's ``size`` and for each entry of ``extra`` (:func:`measure_ratio_sizes`,
    :func:`measure_trained_ratio`)."""
    lines = [ratio_line(names[0], name, size, rows[0], row)
             for name, row, kind in zip(names, rows, model_types)
             if kind == 'CascadeEnhanceDetect']
    for entry in extra:
        lines += [ratio_line(names[0], names[i], entry['label'], entry['rows'][0], row)
                  for i, row in zip(entry['indices'][1:], entry['rows'][1:])]
    return lines


def ratio_indices(model_types: Sequence[str]) -> List[int]:
    """0 (the joint model) and the indices of the ``CascadeEnhanceDetect`` configs."""
    return [0] + [i for i, kind in enumerate(model_types)
                  if i > 0 and kind == 'CascadeEnhanceDetect']


def time_inference(runs: Sequence[dict], batch_size: int, warmup: int,
                   repeats: int) -> List[dict]:
    """:func:`~mtlunder.analysis.model_timing.speed_row` of the inference of each prepared run,
    round-robin."""
    from mmengine.utils import ProgressBar

    test_s = time_rounds([infer_step_fn(r) for r in runs], warmup, repeats,
                         torch.device('cpu'), ProgressBar(repeats * len(runs)))
    print()
    return [speed_row(batch_size, te) for te in test_s]


def measure_ratio_sizes(cfgs: Sequence, model_types: Sequence[str], sizes: Sequence[str],
                        batch_size: int, warmup: int,
                        repeats: int) -> List[Dict[str, object]]:
    """Inference of the first config and the cascades, timed round-robin at other sizes.

    Returns one ``dict(label='random HxW input', indices=[0, i, ...], rows=[speed_row,
    ...])`` per size.
    """
    indices = ratio_indices(model_types)
    out = []
    for size in sizes:
        args = SimpleNamespace(input='random', batch_size=batch_size, shape=parse_size(size))
        runs = [prepare(cfgs[i], args, torch.device('cpu')) for i in indices]
        print(f'inference at {size}:', flush=True)
        out.append(dict(label=f'random {size} input', indices=indices,
                        rows=time_inference(runs, batch_size, warmup, repeats)))
    return out


def measure_trained_ratio(cfgs: Sequence, names: Sequence[str], model_types: Sequence[str],
                          work_dir: str, batch_size: int, warmup: int,
                          repeats: int) -> List[Dict[str, object]]:
    """Inference of the *trained* first config and cascades on the first val batch.

    The speed table times freshly initialised models on random input, whose detection head
    scores almost no anchor above the test threshold; trained models on real images send
    thousands of candidates per image to the (shared) top-k and NMS post-processing. Loads
    each run's ``last_checkpoint`` (safe loader) and times all of them on the first
    config's first val batch. Returns ``[]`` when a run has no checkpoint, else one entry
    like :func:`measure_ratio_sizes`.
    """
    from mmengine.runner import Runner

    from mtlunder.apis import init_model

    indices = ratio_indices(model_types)
    checkpoints = []
    for i in indices:
        pointer = osp.join(work_dir, names[i], 'last_checkpoint')
        if not osp.isfile(pointer):
            print(f'no trained checkpoint for {names[i]} ({pointer} missing): trained-model '
                  'inference not timed', flush=True)
            return []
        with open(pointer) as f:
            checkpoints.append(f.read().strip())   # written by a run in this directory
    loader_cfg = copy.deepcopy(cfgs[0].val_dataloader)
    loader_cfg.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
    data = next(iter(Runner.build_dataloader(loader_cfg)))
    h, w = data['inputs'][0].shape[-2:]
    runs = [dict(model=init_model(cfgs[i], ckpt), data=data)
            for i, ckpt in zip(indices, checkpoints)]
    print('inference of the trained checkpoints:', flush=True)
    with torch.no_grad():
        boxes = [sum(len(s.pred_instances) for s in r['model'].test_step(data)) for r in runs]
    label = (f'trained checkpoints on the first val batch ({h}x{w}; '
             f'{boxes[0] / len(data["inputs"]):.0f} boxes per image from the joint model)')
    return [dict(label=label, indices=indices,
                 rows=time_inference(runs, batch_size, warmup, repeats))]


def parse_size(size: str) -> List[int]:
    """``'512x384'`` -> ``[512, 384]`` (height, width)."""
    try:
        h, w = (int(v) for v in size.lower().split('x'))
    except ValueError:
        raise ValueError(f'input size {size!r} is not HxW, e.g. 512x512') from None
    if h < 32 or w < 32:
        raise ValueError(f'input size {size!r} is smaller than 32x32')
    return [h, w]


def format_report(names: Sequence[str], rows: Sequence[dict], results: Sequence[dict],
                  model_types: Sequence[str], args, command: str, machine: str,
                  date: str, extra: Sequence[dict] = ()) -> str:
    """The Markdown document written to ``args.out``; ``args``: the options of
    :func:`compare_architectures` (``iters``, ``batch_size``, ``shape``, ``bench_*``,
    ``num_threads``, ``conflict_interval``); ``extra``: entries of
    :func:`measure_ratio_sizes` and :func:`measure_trained_ratio`."""
    base = rows[0]
    lines = [
        '# Architecture comparison (generated)',
        '',
        'Generated by `tools/analysis/compare_architectures.py`; do not edit by hand, re-run:',
        '',
        '```',
        command,
        '```',
        '',
        f'- Date: {date}',
        f'- Machine: {machine}',
        f'- **Short budget: {args.iters} iterations** per config (batch {args.batch_size}, '
        'from scratch, linear warm-up over the first fifth, seed 0). The accuracy columns '
        'compare *early training*, not converged models; they say nothing about final '
        'accuracy. Validation: the val split of each config, once at the end.',
        '- **One seed per row.** Differences between rows of the accuracy columns are of the '
        'order of the seed-to-seed spread. Mean ± std over 3 seeds at the full demo schedule '
        '(squad, shared FPN, single-task; synthetic and real data) are on the study pages '
        '[studies/demo_synthetic.md](studies/demo_synthetic.md) and '
        '[studies/demo_real.md](studies/demo_real.md) (`tools/analysis/run_study.py`).',
        f'- Parameters and FLOPs: one {args.shape[0]}x{args.shape[1]} image, 1 FLOP = 1 '
        'multiply-add (`mtlunder.analysis.flops.complexity`, operators FlopAnalyzer does not '
        'know count 0).',
        f'- Speed: random {args.shape[0]}x{args.shape[1]} input, batch {args.bench_batch_size}, '
        f'{args.num_threads} CPU thread(s), median of {args.bench_repeats} interleaved rounds '
        f'after {args.bench_warmup} warm-up call(s) (`mtlunder.analysis.model_timing`); train step '
        '= forward + backward + optimizer step; `x first`: median over the rounds of the ratio '
        'to the first row in the same round (step time for train, speed for infer).',
        f'- cos(det, enh): mean of `{CONFLICT_KEY}` logged by `GradConflictHook` every '
        f'{args.conflict_interval} iterations (cosine of the two tasks\' gradients on the '
        'shared parameters; for the cascade, the enhancer). n/a for single-task models.',
        '',
        '| config | tasks | params (M) | GFLOPs | mAP | mAP@0.5 | PSNR (dB) | SSIM | '
        'train step (ms) | x first | infer (img/s) | x first | cos(det, enh) |',
        '|' + '---|' * 13,
    ]
    reused = [f'`{n}`' for n, r in zip(names, results) if r.get('reused')]
    if reused:
        lines[-3:-3] = [f'- Runs read back from an earlier invocation with identical short '
                        f'configs (`--reuse-runs`): {", ".join(reused)}.']
    no_dets = False
    for name, row, res in zip(names, rows, results):
        res = dict(res)
        if BOXES_TASK in row['tasks'] and 'error' not in res and 'mAP' not in res:
            res.update(mAP='0.000 (a)', mAP50='0.000 (a)')  # CocoMetric: empty results
            no_dets = True
        lines.append(
            f"| {name} | {','.join(row['tasks'])} | {row['params'] / 1e6:.3f} | "
            f"{row['flops'] / 1e9:.3f} | {_fmt(res.get('mAP'), '.3f')} | "
            f"{_fmt(res.get('mAP50'), '.3f')} | {_fmt(res.get('psnr'), '.2f')} | "
            f"{_fmt(res.get('ssim'), '.4f')} | {row['train_s'] * 1e3:.1f} | "
            f"{paired_ratio(row['train_rounds'], base['train_rounds'])[0]:.2f} | "
            f"{row['images_per_s']:.2f} | "
            f"{paired_ratio(base['infer_rounds'], row['infer_rounds'])[0]:.2f} | "
            f"{_fmt(res.get('cos'), '.3f')} |")
    inputs = [r for r in results if 'input_psnr' in r]
    lines.append('')
    if no_dets:
        lines += ['(a) no detection above the test score threshold on the whole val split '
                  '(CocoMetric reports nothing): mAP counted as 0.', '']
    if inputs:
        lines.append(f"Degraded input against the reference (no enhancement): PSNR "
                     f"{inputs[0]['input_psnr']:.2f} dB, SSIM {inputs[0]['input_ssim']:.4f}.")
        lines.append('')
    lines += speed_ratios(names, rows, model_types,
                          f'random {args.shape[0]}x{args.shape[1]} input', extra)
    failed = [(n, r['error']) for n, r in zip(names, results) if 'error' in r]
    if failed:
        lines += ['', 'Runs that failed (their accuracy columns are n/a):', '']
        lines += [f'- `{n}`: {e}' for n, e in failed]
    return '\n'.join(lines) + '\n'


def machine_note(num_threads: int, load: float) -> str:
    """CPU model, core count, 1-minute ``load`` average, torch version and threads used."""
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f
                       if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU used'
    return (f'{cpu}, {os.cpu_count()} logical CPUs (load average {load:.2f} when the timing '
            f'started), {gpu}; '
            f'torch {torch.__version__}, {num_threads} intra-op thread(s); Python '
            f'{platform.python_version()}')


def compare_architectures(args, command: str, train_script: str) -> None:
    """Train, evaluate and time every config; write the report to ``args.out``.

    Args:
        args: the options of ``tools/analysis/compare_architectures.py`` (``configs``,
            ``iters``, ``batch_size``, ``num_workers``, ``num_threads``,
            ``conflict_interval``, ``shape``, ``bench_batch_size``, ``bench_warmup``,
            ``bench_repeats``, ``ratio_sizes``, ``work_dir``, ``out``, ``reuse_runs``,
            ``cfg_options``).
        command: the command line quoted in the report.
        train_script: ``tools/train.py``, run in the current directory for each config.
    """
    from mmengine.config import Config

    from mtlunder.registry import MODELS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    torch.set_num_threads(args.num_threads)
    names = [config_name(p) for p in args.configs]
    cfgs, results = [], []
    for i, (path, name) in enumerate(zip(args.configs, names)):
        cfg = Config.fromfile(path)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        cfgs.append(cfg)
        tasks = set(getattr(MODELS.build(cfg.model), 'tasks', ()))
        interval = args.conflict_interval if {BOXES_TASK, REFERENCE_TASK} <= tasks else None
        short = short_budget_cfg(cfg, args.iters, args.batch_size, args.num_workers, interval)
        work_dir = osp.join(args.work_dir, name)
        res = finished_run(short, name, work_dir) if args.reuse_runs else None
        if res is None:
            print(f'[{i + 1}/{len(names)}] training {name} for {args.iters} iterations ...',
                  flush=True)
            res = train_and_evaluate(short, name, work_dir, args.num_threads, train_script)
            status = f'{res.get("error") or "done"} ({res["train_wall_s"]:.0f} s)'
        else:
            status = f'[{i + 1}/{len(names)}] {name}: read back the finished run in {work_dir}'
        results.append(res)
        print(f'  {status}: ' + ', '.join(
            f'{k} {v:.4g}' for k, v in res.items() if isinstance(v, float)), flush=True)
    print('measuring parameters, FLOPs and speed of all configs in one run ...', flush=True)
    load = os.getloadavg()[0]
    rows = measure(cfgs, args.shape, args.bench_batch_size, args.bench_warmup,
                   args.bench_repeats)
    model_types = [c.model.type for c in cfgs]
    extra = measure_ratio_sizes(cfgs, model_types, args.ratio_sizes, args.bench_batch_size,
                                args.bench_warmup, args.bench_repeats)
    extra += measure_trained_ratio(cfgs, names, model_types, args.work_dir,
                                   args.bench_batch_size, args.bench_warmup,
                                   args.bench_repeats)
    report = format_report(
        names, rows, results, model_types, args, command, machine_note(args.num_threads, load),
        datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'), extra)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    atomic_write_text(args.out, report)
    print(report)
    print(f'written to {args.out}; {sum("error" not in r for r in results)}/{len(results)} '
          'runs trained and evaluated')
