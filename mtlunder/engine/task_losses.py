"""Group a model's flat loss dict by task (``det.loss_cls`` -> task ``det``)."""
from collections import OrderedDict
from typing import Dict, Tuple

import torch
from torch import Tensor


def parse_task_losses(losses: Dict[str, object]) -> Tuple[Dict[str, Tensor], Dict[str, Tensor]]:
    """mmengine ``parse_losses`` semantics, per task.

    Every key is ``<task>.<name>``; each value is a tensor (averaged) or a list of tensors
    (sum of their means). A task's loss is the sum of its entries whose name contains
    ``'loss'``; other entries (e.g. ``det.acc``) are only logged.

    Returns:
        ``(task_losses, log_vars)``: ``{task: scalar loss}`` in first-seen order (with
        autograd graph) and detached log values, ``'loss'`` (the sum) first.
    """
    task_losses: Dict[str, Tensor] = OrderedDict()
    log_vars: Dict[str, Tensor] = OrderedDict()
    for key, value in losses.items():
        task, sep, name = key.partition('.')
        if not sep or not task or not name:
            raise KeyError(f'loss key {key!r} is not task-prefixed; expected '
                           "'<task>.<name>' such as 'det.loss_cls'")
        if isinstance(value, Tensor):
            value = value.mean()
        elif isinstance(value, (list, tuple)) and value and \
                all(isinstance(v, Tensor) for v in value):
            value = sum(v.mean() for v in value)
        else:
            raise TypeError(f'loss {key!r} must be a tensor or a list of tensors, '
                            f'got {type(value).__name__}')
        log_vars[key] = value.detach()
        if 'loss' in name:
            task_losses[task] = task_losses[task] + value if task in task_losses else value
    total = sum(task_losses.values()) if task_losses else torch.zeros(())
    log_vars = OrderedDict([('loss', total.detach()), *log_vars.items()])
    return task_losses, log_vars
