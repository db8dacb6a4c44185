"""Training-step time and inference throughput of one or more configs, measured in one run
(the logic of ``tools/analysis/benchmark_speed.py``).

For each config: build the model and its ``optim_wrapper``, make one batch (random images
with random labels for every task of the model, or the first batch of the config's
``train_dataloader`` with ``input='real'``), then time ``model.train_step`` (forward,
backward, optimizer step) and ``model.test_step`` under ``torch.no_grad`` in eval mode:
``warmup`` untimed calls each, then ``repeats`` rounds that time every config once
(round-robin, CUDA synchronised), median per config. All configs are measured by the same
process on the same input size and interleaved; the ``x first`` columns are medians of the
per-round ratios to the first config (:func:`paired_ratio`), so a slow spell of a busy
machine cancels out of them; absolute numbers depend on the machine.
"""
import logging
import os.path as osp
import statistics
import time
from typing import Callable, List, Sequence, Tuple

import torch
from torch import nn


def time_rounds(fns: Sequence[Callable[[], object]], warmup: int, repeats: int,
                device: torch.device, progress=None) -> List[List[float]]:
    """Wall times (s) ``[function][round]`` of each ``fn()``, timed round-robin after
    ``warmup`` calls each.

    Round ``r`` times ``fns[0]``, ``fns[1]``, ... once each, so a slow spell of a shared
    machine hits every function alike and the per-round ratios stay meaningful.
    """
    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    for fn in fns:
        for _ in range(warmup):
            fn()
    times: List[List[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            sync()
            start = time.perf_counter()
            fn()
            sync()
            times[i].append(time.perf_counter() - start)
            if progress is not None:
                progress.update()
    return times


def paired_ratio(numerator: Sequence[float],
                 denominator: Sequence[float]) -> Tuple[float, float, float]:
    """(median, first quartile, third quartile) of ``numerator[r] / denominator[r]``.

    Ratios of the times of one round are paired: both were measured within seconds of each
    other, so a slow spell of the machine cancels out of each ratio (the ratio of two
    medians does not pair them). Quartiles: ``statistics.quantiles(method='inclusive')``.
    """
    if len(numerator) != len(denominator) or not numerator:
        raise ValueError(f'paired_ratio needs two equally long, non-empty series, got '
                         f'{len(numerator)} and {len(denominator)} rounds')
    ratios = [a / b for a, b in zip(numerator, denominator)]
    if len(ratios) == 1:
        return ratios[0], ratios[0], ratios[0]
    q1, median, q3 = statistics.quantiles(ratios, n=4, method='inclusive')
    return median, q1, q3


def num_classes_of(model: nn.Module, default: int = 4) -> int:
    """``num_classes`` of the first module that has one (the detection head)."""
    return next((int(m.num_classes) for m in model.modules()
                 if isinstance(getattr(m, 'num_classes', None), int)), default)


def random_batch(tasks: Sequence[str], batch_size: int, shape: Sequence[int], num_classes: int,
                 num_boxes: int = 3, seed: int = 0, map_classes: dict = None) -> dict:
    """A data batch as the dataloader yields it: uint8 images [3, H, W] and data samples.

    Labels per task, by its kind in the task table: boxes ``num_boxes`` random boxes (xyxy
    pixels) and labels; image a float clean image [3, H, W] in the input's 0..255 range;
    label map [1, H, W] in ``[0, map_classes[task])`` (default 2: a binary map);
    continuous map [1, H, W] in metres; unit vectors [3, H, W].
    """
    import torch.nn.functional as F
    from mmengine.structures import InstanceData, PixelData

    from mtlunder.structures import TASK_SPECS, MultiTaskDataSample

    g = torch.Generator().manual_seed(seed)
    h, w = shape
    inputs, samples = [], []
    for i in range(batch_size):
        inputs.append(torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8))
        sample = MultiTaskDataSample(metainfo=dict(
            img_id=i, img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w),
            scale_factor=(1.0, 1.0), flip=False, tasks=tuple(tasks)))
        for task in tasks:
            spec = TASK_SPECS[task]
            if spec.kind == 'boxes':
                xy = torch.rand(num_boxes, 2, generator=g) * torch.tensor([w * 0.7, h * 0.7])
                wh = (torch.rand(num_boxes, 2, generator=g) * 0.25 + 0.05) * \
                    torch.tensor([w, h])
                setattr(sample, spec.gt_field, InstanceData(
                    bboxes=torch.cat([xy, xy + wh], dim=1),
                    labels=torch.randint(0, num_classes, (num_boxes, ), generator=g)))
                sample.ignored_instances = InstanceData(
                    bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long))
                continue
            if spec.kind == 'image':
                data = torch.rand(3, h, w, generator=g) * 255
            elif spec.kind == 'label_map':
                data = torch.randint(0, (map_classes or {}).get(task, 2), (1, h, w),
                                     generator=g)
            elif spec.kind == 'continuous_map':
                data = torch.rand(1, h, w, generator=g) * 10
            else:
                data = F.normalize(torch.randn(3, h, w, generator=g), dim=0)
            setattr(sample, spec.gt_field, PixelData(data=data))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def prepare(cfg, args, device: torch.device) -> dict:
    """Model (initialised), one data batch and the optim wrapper of a config.

    Uses ``args.input``, ``args.batch_size`` and ``args.shape`` (see :func:`run_benchmark`).
    Returns ``dict(model, data, optim_wrapper, tasks, params)``.
    """
    from mmengine.logging import MMLogger
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import Runner

    from mtlunder.registry import MODELS
    from mtlunder.structures import tasks_of_kind

    torch.manual_seed(0)
    model = MODELS.build(cfg.model).to(device)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter at INFO
    try:
        model.init_weights()  # e.g. the focal-loss prior bias: realistic NMS load
    finally:
        logger.setLevel(level)
    # a plain mmdet detector has no ``tasks``: it is the boxes task alone
    tasks = tuple(getattr(model, 'tasks', None) or tasks_of_kind('boxes'))
    if args.input == 'real':
        loader_cfg = cfg.train_dataloader.copy()
        loader_cfg.batch_size = args.batch_size
        loader_cfg.num_workers = 0
        loader_cfg.pop('persistent_workers', None)
        data = next(iter(Runner.build_dataloader(loader_cfg)))
    else:
        from mtlunder.models.heads import SegHead

        map_classes = {t: h.decode_head.num_classes for t, h in
                       getattr(model, 'heads', {}).items() if isinstance(h, SegHead)}
        data = random_batch(tasks, args.batch_size, args.shape, num_classes_of(model),
                            map_classes=map_classes)
    return dict(model=model, data=data, optim_wrapper=build_optim_wrapper(model, cfg.optim_wrapper),
                tasks=tasks, params=sum(p.numel() for p in model.parameters()))


def train_step_fn(run: dict) -> Callable[[], object]:
    """One training step (forward, backward, optimizer step) of a prepared config."""
    def step():
        run['model'].train()
        return run['model'].train_step(run['data'], run['optim_wrapper'])

    return step


def infer_step_fn(run: dict) -> Callable[[], object]:
    """One inference step (eval mode, no grad) of a prepared config."""
    def step():
        run['model'].eval()
        with torch.no_grad():
            return run['model'].test_step(run['data'])

    return step


def speed_row(batch_size: int, infer_rounds: Sequence[float],
              train_rounds: Sequence[float] = ()) -> dict:
    """Per-round times (s) and their medians: ``images_per_s`` and (with ``train_rounds``)
    ``train_s`` (s/step)."""
    row = dict(infer_rounds=list(infer_rounds),
               images_per_s=batch_size / statistics.median(infer_rounds))
    if train_rounds:
        row.update(train_rounds=list(train_rounds), train_s=statistics.median(train_rounds))
    return row


def format_table(rows: List[dict], args, device: torch.device) -> str:
    """Table with one row per config (see :func:`run_benchmark`); ratios to the first
    config: median of the per-round ratios of step time (train) and of speed (infer). The
    heading states ``args.input``, ``batch_size``, ``warmup`` and ``repeats``."""
    head = (f'Input: {args.input}, batch {args.batch_size}, device {device} '
            f'({torch.get_num_threads()} CPU threads), warm-up {args.warmup}, median of '
            f'{args.repeats} rounds\n'
            '| config                                   | tasks        | input HxW | params (M) | '
            'train step (ms) | x first | infer (img/s) | x first |\n'
            '|' + '|'.join('-' * n for n in (42, 14, 11, 12, 17, 9, 15, 9)) + '|')
    lines = [head]
    base = rows[0]
    for r in rows:
        name = osp.splitext(osp.basename(r['config']))[0][:40]
        train_x = paired_ratio(r['train_rounds'], base['train_rounds'])[0]
        infer_x = paired_ratio(base['infer_rounds'], r['infer_rounds'])[0]
        lines.append(
            f"| {name:<40} | {','.join(r['tasks']):<12} | {r['input']:>9} | "
            f"{r['params'] / 1e6:>10.3f}"
            f" | {r['train_s'] * 1e3:>15.1f} | {train_x:>7.2f}"
            f" | {r['images_per_s']:>13.2f} | {infer_x:>7.2f} |")
    return '\n'.join(lines)


def run_benchmark(args) -> List[dict]:
    """Measure ``args.configs`` as the tool does; one row per config, in order.

    ``args`` carries the tool's arguments: ``configs``, ``shape`` (H, W), ``batch_size``,
    ``input`` (``'random'`` or ``'real'``), ``warmup``, ``repeats``, ``device``,
    ``num_threads`` (None: torch default) and ``cfg_options`` (None or a dict merged into
    every config). A row is ``config``, ``tasks``, ``params``, ``input`` (``'HxW'`` of the
    first image) and the keys of :func:`speed_row`; see :func:`format_table`.
    """
    from mmengine.config import Config
    from mmengine.utils import ProgressBar

    from mtlunder.utils import register_all_modules

    register_all_modules()
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    device = torch.device(args.device)
    runs = []
    for path in args.configs:
        cfg = Config.fromfile(path)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        runs.append(prepare(cfg, args, device))
    progress = ProgressBar(2 * args.repeats * len(runs))
    train_s = time_rounds([train_step_fn(r) for r in runs], args.warmup, args.repeats, device,
                          progress)
    test_s = time_rounds([infer_step_fn(r) for r in runs], args.warmup, args.repeats, device,
                         progress)
    return [dict(config=path, tasks=r['tasks'], params=r['params'],
                 input='x'.join(map(str, r['data']['inputs'][0].shape[-2:])),
                 **speed_row(len(r['data']['inputs']), te, tr))
            for path, r, tr, te in zip(args.configs, runs, train_s, test_s)]
