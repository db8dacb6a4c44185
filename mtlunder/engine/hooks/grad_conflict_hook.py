"""Gradient-conflict monitor: cosine similarity of per-task gradients of the shared weights."""
import itertools
from typing import Dict, Iterable, List, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import Tensor, nn

from mtlunder.registry import HOOKS
from ..task_jacobian import loss_forward, task_jacobian
from ..task_losses import parse_task_losses


def group_task_losses(losses: Dict[str, object],
                      tasks: Optional[Sequence[str]] = None) -> Dict[str, Tensor]:
    """One scalar per task from a flat ``{'<task>.<name>': loss}`` dict, with the training
    step's semantics (:func:`mtlunder.engine.parse_task_losses`), restricted to ``tasks``
    when given.

    Raises:
        FloatingPointError: a task loss is NaN or inf (names the task).
    """
    grouped, _ = parse_task_losses(losses)
    grouped = {t: v for t, v in grouped.items() if tasks is None or t in tasks}
    for task, value in grouped.items():
        if not torch.isfinite(value):
            raise FloatingPointError(f'GradConflictHook: loss of task {task!r} is not finite')
    return grouped


def gradient_conflicts(task_losses: Dict[str, Tensor],
                       params: Sequence[nn.Parameter]) -> Dict[str, float]:
    """Pairwise conflict statistics of the tasks' gradients w.r.t. ``params``.

    Gradients come from :func:`~mtlunder.engine.task_jacobian.task_jacobian`, as in the
    gradient-balancer step (``.grad`` is never written). For each task
    pair (a, b) in ``task_losses`` order:
        ``cos_a_b``: cosine of the two whole flattened gradient vectors;
        ``frac_neg_a_b``: fraction of parameter tensors whose gradient cosine is negative,
        among the tensors where both gradients are non-zero (0 when there is none).

    Returns: dict ``{'cos_a_b': float, 'frac_neg_a_b': float, ...}``.
    """
    tasks = list(task_losses)
    grads: Dict[str, List[Tensor]] = {
        task: rows for task, rows, _ in task_jacobian(task_losses, params)}
    stats = {}
    for a, b in itertools.combinations(tasks, 2):
        ga, gb = grads[a], grads[b]
        dots = torch.stack([(x.double() * y.double()).sum() for x, y in zip(ga, gb)])
        sq_a = torch.stack([x.double().square().sum() for x in ga])
        sq_b = torch.stack([y.double().square().sum() for y in gb])
        denom = (sq_a.sum() * sq_b.sum()).sqrt()
        stats[f'cos_{a}_{b}'] = float(dots.sum() / denom) if denom > 0 else 0.0
        both = (sq_a > 0) & (sq_b > 0)
        stats[f'frac_neg_{a}_{b}'] = float((dots[both] < 0).double().mean()) \
            if both.any() else 0.0
    return stats


@HOOKS.register_module()
class GradConflictHook(Hook):
    """Every ``interval`` iterations, measure task-gradient conflicts on the current batch.

    Before the training step, the batch goes through the model's data preprocessor and
    ``mode='loss'`` forward (:func:`~mtlunder.engine.task_jacobian.loss_forward`, the
    training step's); the flat task-prefixed losses are grouped per task and
    :func:`gradient_conflicts` is computed on ``model.shared_parameters()`` (or all trainable
    parameters when the model has no such method). The extra forward leaves no trace: no
    ``.grad`` is written and the model's buffers (e.g. BN running statistics) and the RNG
    states are restored. Under DDP each rank measures its own batch, rank 0's values are
    logged.

    Logged as ``conflict/cos_<a>_<b>`` and ``conflict/frac_neg_<a>_<b>`` to the message hub,
    the visualizer at step ``iter + 1`` (``vis_data/scalars.json`` with LocalVisBackend) and
    one log line per measurement. The keys have no ``train/`` prefix, so the LoggerHook does
    not repeat stale values at iterations without a measurement.

    Args:
        interval: measure every ``interval`` training iterations.
        tasks: tasks to compare (None: every task with a loss in the batch).
    """

    priority = 'LOW'

    def __init__(self, interval: int = 50, tasks: Optional[Sequence[str]] = None):
        if interval < 1:
            raise ValueError(f'GradConflictHook interval must be >= 1, got {interval}')
        self.interval = interval
        self.tasks = tuple(tasks) if tasks is not None else None

    @staticmethod
    def _shared_parameters(model: nn.Module) -> List[nn.Parameter]:
        params: Iterable[nn.Parameter] = model.shared_parameters() \
            if hasattr(model, 'shared_parameters') else model.parameters()
        return [p for p in params if p.requires_grad]

    def measure(self, model: nn.Module, data_batch: dict) -> Dict[str, float]:
        """Conflict statistics of ``model`` (unwrapped) on ``data_batch``; see the class."""
        buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
        cpu_rng = torch.get_rng_state()
        cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
        try:
            with torch.enable_grad():
                _, losses, _ = loss_forward(model, data_batch)
                task_losses = group_task_losses(losses, self.tasks)
                if len(task_losses) < 2:
                    return {}
                params = self._shared_parameters(model)
                if not params:
                    raise ValueError(f'GradConflictHook: {type(model).__name__} has no shared '
                                     'trainable parameters to compare task gradients on')
                return gradient_conflicts(task_losses, params)
        finally:
            with torch.no_grad():
                for name, b in model.named_buffers():
                    b.copy_(buffers[name])
            torch.set_rng_state(cpu_rng)
            if cuda_rng is not None:
                torch.cuda.set_rng_state_all(cuda_rng)

    def before_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None):
        if data_batch is None or not self.every_n_train_iters(runner, self.interval):
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        stats = {f'conflict/{k}': v for k, v in self.measure(model, data_batch).items()}
        if not stats:
            return
        for key, value in stats.items():
            runner.message_hub.update_scalar(key, value)
        runner.visualizer.add_scalars(stats, step=runner.iter + 1)
        runner.logger.info(f'Iter {runner.iter + 1} gradient conflict: ' + ', '.join(
            f'{k}: {v:.4f}' for k, v in stats.items()))
