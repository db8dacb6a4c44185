"""Cost of every balancer relative to equal weighting, measured in one run (the logic of
``tools/analysis/benchmark_balancers.py``).

Each method runs the real multi-task train step (:func:`mtlunder.engine.multitask_train_step`)
on the same model and the same batch; methods are interleaved repeat by repeat (a random
order per repeat) and the median step time is compared with EW's. Also measured per step:
forward and backward passes through the shared encoder, the median time inside the
balancer's own calls (``combine`` / ``combine_grads`` / ``gram_weights``) and peak memory
above the pre-step level (CUDA: ``max_memory_allocated``; CPU: sampled process RSS).
"""
import copy
import random
import statistics
import threading
import time
from typing import Dict, List

import torch
from torch import nn

#: the generic adapters, reached through their named aliases (``UPGrad``, ``ConFIG``, ...)
ADAPTERS = ('BaseBalancer', 'TorchJDWeighting', 'TorchJDAggregator')


def default_methods() -> List[str]:
    """Every registered balancer but the generic adapters, in registration order."""
    import mtlunder.balancers  # noqa: F401  (registers them)
    from mtlunder.registry import BALANCERS

    return [name for name in BALANCERS.module_dict if name not in ADAPTERS]


class ToyDenseMultiTask(nn.Module):
    """Conv encoder (shared) + one conv head per task on ``[B, 3, H, W]`` images; task ``k``
    regresses a fixed random transform of the image. Implements the multi-task protocol."""

    def __init__(self, num_tasks: int = 2, width: int = 32):
        from mmengine.model import BaseDataPreprocessor

        super().__init__()
        self.data_preprocessor = BaseDataPreprocessor()
        self.task_names = tuple(f't{k}' for k in range(num_tasks))
        self.encoder = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.heads = nn.ModuleDict({
            t: nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
                             nn.Conv2d(width, 3, 1))
            for t in self.task_names})

    @property
    def tasks(self):
        return self.task_names

    def extract_shared(self, inputs):
        return (self.encoder(inputs),)

    def loss_from_shared(self, shared, data_samples, batch_inputs=None):
        out = {}
        for k, task in enumerate(self.task_names):
            pred = self.heads[task](shared[0])
            target = nn.functional.avg_pool2d(data_samples['targets'][:, k], 2)
            out[f'{task}.loss_l1'] = (pred - target).abs().mean()
        return out

    def forward(self, inputs, data_samples=None, mode='loss'):
        return self.loss_from_shared(self.extract_shared(inputs), data_samples)

    def shared_parameters(self):
        return list(self.encoder.parameters())

    def task_parameters(self, task):
        return list(self.heads[task].parameters())


def toy_setup(args):
    torch.manual_seed(0)
    model = ToyDenseMultiTask(args.num_tasks)
    x = torch.randn(args.batch_size, 3, args.size, args.size)
    targets = torch.stack([torch.roll(x, k + 1, dims=1) * (k + 1) for k in range(args.num_tasks)],
                          1)
    return model, dict(inputs=x, data_samples=dict(targets=targets)), model.encoder[0]


def config_setup(args):
    """Model and one training batch from a config (the integrator's demo config)."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mtlunder.registry import MODELS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.model.pop('balancer', None)
    model = MODELS.build(cfg.model)
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg['batch_size'] = args.batch_size
    loader_cfg['num_workers'] = 0
    loader_cfg.pop('persistent_workers', None)
    if args.data_root:
        loader_cfg['dataset']['data_root'] = args.data_root
    batch = next(iter(Runner.build_dataloader(loader_cfg, seed=0)))
    first = next(m for m in model.backbone.modules() if isinstance(m, nn.Conv2d))
    return model, batch, first


def balancer_cfg(name: str, tasks) -> dict:
    """The config of ``name`` with the arguments it requires (uniform where a choice is
    needed)."""
    cfg = dict(type=name)
    if name == 'AMTL':
        cfg['potentials'] = {t: 1.0 for t in tasks}
    if name == 'GeMTL':
        cfg.update(p_start=-0.5, p_end=0.5, total_steps=1000)
    if name == 'Constant':
        cfg['weights'] = [1.0] * len(tasks)
    return cfg


class PeakMemory:
    """Peak memory above the level at entry, in MiB (CUDA allocator or sampled RSS)."""

    def __init__(self, device: str):
        self.device = device
        self.peak = 0.0

    def __enter__(self):
        if self.device.startswith('cuda'):
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
            return self
        import psutil

        proc = psutil.Process()
        self.base = proc.memory_info().rss
        self.max_rss = self.base
        self.running = True

        def sample():
            while self.running:
                self.max_rss = max(self.max_rss, proc.memory_info().rss)
                time.sleep(0.001)

        self.thread = threading.Thread(target=sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.device.startswith('cuda'):
            torch.cuda.synchronize()
            self.peak = (torch.cuda.max_memory_allocated() - self.base) / 2**20
        else:
            self.running = False
            self.thread.join()
            self.peak = (self.max_rss - self.base) / 2**20


def time_calls(balancer, sink: List[float], clock) -> None:
    """Record the wall time of each outermost balancer call (combine, combine_grads,
    gram_weights) into ``sink``."""
    depth = [0]
    for attr in ('combine', 'combine_grads', 'gram_weights'):
        if not hasattr(balancer, attr):   # loss balancers have no gradient methods
            continue
        method = getattr(balancer, attr)

        def timed(*args, _method=method, **kwargs):
            depth[0] += 1
            start = clock()
            try:
                return _method(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    sink.append(clock() - start)

        setattr(balancer, attr, timed)


def run(args) -> List[Dict[str, object]]:
    from mmengine.optim import OptimWrapper
    from mmengine.utils import ProgressBar

    from mtlunder.balancers import build_balancer
    from mtlunder.engine import multitask_train_step

    clock = time.process_time if args.clock == 'cpu' else time.perf_counter
    model, batch, first = config_setup(args) if args.config else toy_setup(args)
    model = model.to(args.device).train()
    tasks = list(model.tasks)
    counts = dict(forward=0, backward=0)
    first.register_forward_hook(lambda *a: counts.__setitem__('forward', counts['forward'] + 1))
    first.weight.register_hook(
        lambda g: counts.__setitem__('backward', counts['backward'] + 1))

    setups = {}
    for name in args.methods:
        balancer = build_balancer(balancer_cfg(name, tasks), tasks).to(args.device)
        params = list(model.parameters()) + list(balancer.parameters())
        calls: List[float] = []
        time_calls(balancer, calls, clock)
        setups[name] = (balancer, OptimWrapper(torch.optim.SGD(params, lr=0.0)), calls)

    def step(name):
        model.balancer = setups[name][0]
        multitask_train_step(model, batch, setups[name][1])
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()

    for name in args.methods:                       # warm-up and per-step pass counts
        step(name)
        counts.update(forward=0, backward=0)
        step(name)
        setups[name] += (dict(counts),)
        setups[name][2].clear()
    times = {name: [] for name in args.methods}
    peaks = {name: 0.0 for name in args.methods}
    order = list(args.methods)
    rng = random.Random(0)
    bar = ProgressBar(args.repeats * len(order))
    for _ in range(args.repeats):
        rng.shuffle(order)
        for name in order:
            with PeakMemory(args.device) as mem:
                start = clock()
                step(name)
                times[name].append(clock() - start)
            peaks[name] = max(peaks[name], mem.peak)
            bar.update()
    print()
    base = statistics.median(times['EW']) if 'EW' in times else None
    rows = []
    for name in args.methods:
        balancer, _, calls, passes = setups[name]
        med = statistics.median(times[name])
        combine = statistics.median(calls) if calls else 0.0
        rows.append(dict(method=name, kind='gradient' if balancer.grad_based else 'loss',
                         source=balancer.grad_source if balancer.grad_based else '-',
                         forward=passes['forward'], backward=passes['backward'],
                         ms=1e3 * med, ratio=med / base if base else float('nan'),
                         combine_ms=1e3 * combine,
                         peak=peaks[name]))
    return rows


def print_table(rows, title):
    print(f'\n{title}')
    header = ('| method | kind | grads of | fwd/step | bwd/step | median ms | x EW | '
              'balancer ms | peak MiB |')
    print(header)
    print('|' + '---|' * 9)
    for r in rows:
        print(f"| {r['method']} | {r['kind']} | {r['source']} | {r['forward']} | "
              f"{r['backward']} | {r['ms']:.1f} | {r['ratio']:.3f} | {r['combine_ms']:.2f} | "
              f"{r['peak']:.1f} |")


def print_summary(rows) -> None:
    """The loss-based balancers' step ratios and their largest balancer-call overhead over
    EW, as a fraction of EW's step."""
    ew = next(r for r in rows if r['method'] == 'EW')
    loss = [r for r in rows if r['kind'] == 'loss' and r['method'] != 'EW']
    if loss:
        worst = max(loss, key=lambda r: r['combine_ms'])
        extra = (worst['combine_ms'] - ew['combine_ms']) / ew['ms']
        print(f"\nloss-based balancers: step time {min(r['ratio'] for r in loss):.3f}-"
              f"{max(r['ratio'] for r in loss):.3f} x EW; largest balancer-call overhead "
              f"over EW: {worst['method']} +{worst['combine_ms'] - ew['combine_ms']:.2f} ms "
              f"= {100 * extra:.2f}% of EW's step")
