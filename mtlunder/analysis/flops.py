"""Parameters and FLOPs of a model per component and per task (the logic of
``tools/analysis/get_flops.py``).

The model runs in ``mode='tensor'`` under mmengine's :class:`~mmengine.analysis.FlopAnalyzer`
(one fused multiply-add counts as one FLOP, as in fvcore/mmengine). Components are the
model's top-level children (``data_preprocessor`` excluded), with ``nn.ModuleDict`` children
(e.g. ``heads``) split per key. A module is *task-exclusive* when its path passes through an
``nn.ModuleDict`` key that is a task name (per-task heads, per-task FPNs, ETR exclusive
branches, squad-neck projections); everything else is *shared*. Per task: its exclusive cost
and shared + exclusive (the cost of running that task alone).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn


def _flatten(outputs) -> Tuple[Tensor, ...]:
    """Tensors of a nested dict/list/tuple output, in a fixed order."""
    if isinstance(outputs, Tensor):
        return (outputs, )
    if isinstance(outputs, dict):
        return tuple(t for k in sorted(outputs) for t in _flatten(outputs[k]))
    if isinstance(outputs, (list, tuple)):
        return tuple(t for o in outputs for t in _flatten(o))
    if hasattr(outputs, 'data'):  # mmengine PixelData
        return _flatten(outputs.data)
    return ()


class TensorMode(nn.Module):
    """``model(inputs, data_samples, mode='tensor')`` with flattened outputs, for tracing."""

    def __init__(self, model: nn.Module, data_samples: Optional[list] = None):
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        return _flatten(self.model(inputs, self.data_samples, mode='tensor'))


def task_roots(model: nn.Module, tasks: Sequence[str]) -> Dict[str, List[str]]:
    """Outermost module paths of each task's exclusive modules (``ModuleDict`` task keys)."""
    roots: Dict[str, List[str]] = {t: [] for t in tasks}
    for name, module in model.named_modules():
        if not isinstance(module, nn.ModuleDict):
            continue
        for key in module.keys():
            if key not in roots:
                continue
            path = f'{name}.{key}' if name else key
            if not any(path.startswith(r + '.') or path == r for rs in roots.values()
                       for r in rs):
                roots[key].append(path)
    return roots


def components(model: nn.Module) -> List[str]:
    """Top-level child paths, ``ModuleDict`` children split per key."""
    names = []
    for name, child in model.named_children():
        if name == 'data_preprocessor':
            continue
        if isinstance(child, nn.ModuleDict):
            names += [f'{name}.{k}' for k in child.keys()]
        else:
            names.append(name)
    return names


def infer_tasks(model: nn.Module) -> Tuple[str, ...]:
    """``model.tasks``, else the task names used as ``ModuleDict`` keys anywhere."""
    if getattr(model, 'tasks', None):
        return tuple(model.tasks)
    from mtlunder.structures import TASK_NAMES

    found = {k for m in model.modules() if isinstance(m, nn.ModuleDict) for k in m.keys()}
    return tuple(t for t in TASK_NAMES if t in found)


def complexity(model: nn.Module, inputs: Tensor, data_samples: Optional[list] = None,
               tasks: Optional[Sequence[str]] = None) -> dict:
    """Parameters and FLOPs of ``model`` on ``inputs`` [B, 3, H, W] (FLOPs of the batch).

    Returns ``dict(total=(params, flops), components={name: (params, flops)},
    shared=(params, flops), tasks={task: dict(exclusive=(params, flops),
    total=(params, flops))})``.
    """
    from mmengine.analysis import FlopAnalyzer, parameter_count

    tasks = tuple(tasks) if tasks is not None else infer_tasks(model)
    was_training = model.training
    model.eval()
    try:
        analyzer = FlopAnalyzer(TensorMode(model, data_samples), (inputs, ))
        analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        flops_by = {k[len('model.'):] if k.startswith('model.') else k: v
                    for k, v in analyzer.by_module().items() if k != ''}
    finally:
        model.train(was_training)
    params_by = parameter_count(model)
    total = (params_by[''], flops_by.get('model', 0))

    def cost(path: str) -> Tuple[int, int]:
        return params_by.get(path, 0), flops_by.get(path, 0)

    roots = task_roots(model, tasks)
    exclusive = {t: tuple(map(sum, zip((0, 0), *(cost(r) for r in rs))))
                 for t, rs in roots.items()}
    shared = (total[0] - sum(e[0] for e in exclusive.values()),
              total[1] - sum(e[1] for e in exclusive.values()))
    return dict(
        total=total,
        components={c: cost(c) for c in components(model)},
        shared=shared,
        tasks={t: dict(exclusive=e, total=(shared[0] + e[0], shared[1] + e[1]))
               for t, e in exclusive.items()})


def format_table(result: dict, shape: Tuple[int, int]) -> str:
    """Printable table of :func:`complexity`'s result."""
    def row(name, pf):
        return f'| {name:<26} | {pf[0] / 1e6:>10.3f} | {pf[1] / 1e9:>10.3f} |'

    sep = '|' + '-' * 28 + '|' + '-' * 12 + '|' + '-' * 12 + '|'
    lines = [f'Input shape: (1, 3, {shape[0]}, {shape[1]}); 1 FLOP = 1 multiply-add',
             '| component                  | params (M) | GFLOPs     |', sep]
    lines += [row(name, pf) for name, pf in result['components'].items()]
    lines += [sep, row('total', result['total']), '',
              '| task (cost)                | params (M) | GFLOPs     |', sep,
              row('shared', result['shared'])]
    for task, cost in result['tasks'].items():
        lines += [row(f'{task} exclusive', cost['exclusive']),
                  row(f'{task} alone (shared + excl)', cost['total'])]
    return '\n'.join(lines)


def config_complexity(config: str, shape: Sequence[int],
                      cfg_options: Optional[dict] = None) -> dict:
    """:func:`complexity` of the model of ``config`` (``cfg_options`` merged in) on one random
    [1, 3, H, W] image, ``shape`` = (H, W), with a data sample of that size."""
    from mmengine.config import Config

    from mtlunder.registry import MODELS
    from mtlunder.structures.multitask_data_sample import MultiTaskDataSample
    from mtlunder.utils import register_all_modules

    register_all_modules()
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = MODELS.build(cfg.model)
    h, w = shape
    tasks = infer_tasks(model)
    sample = MultiTaskDataSample(metainfo=dict(
        img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w),
        scale_factor=(1.0, 1.0), tasks=tasks))
    with torch.no_grad():
        return complexity(model, torch.rand(1, 3, h, w), [sample], tasks)
