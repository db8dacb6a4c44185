"""The loss-mode forward and the per-task gradients (task Jacobian) of a multi-task model.

Shared by the gradient-balancer training step (:mod:`mtlunder.engine.multitask_step`) and
:class:`~mtlunder.engine.hooks.GradConflictHook`, so both measure the same gradients.
"""
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn


def loss_forward(model: nn.Module, data, shared_repr: bool = False
                 ) -> Tuple[dict, Dict[str, Tensor], Optional[Tuple[Tensor, ...]]]:
    """Preprocess a dataloader batch and compute the flat task-prefixed losses.

    Args:
        model: the multi-task model, or a wrapper with ``.module`` (its forward is used).
        data: the batch before the data preprocessor.
        shared_repr: compute the losses as ``loss_from_shared(extract_shared(inputs),
            samples, inputs)`` of the unwrapped model and return the shared representation
            ``z`` (for ``grad_source='repr'``); otherwise ``model(..., mode='loss')``.

    Returns:
        ``(data, losses, shared)``: the preprocessed batch, ``{'<task>.<name>': loss}`` and
        the shared tensors (``None`` without ``shared_repr``).
    """
    module = getattr(model, 'module', model)
    data = module.data_preprocessor(data, True)
    if shared_repr:
        shared = tuple(module.extract_shared(data['inputs']))
        losses = module.loss_from_shared(shared, data['data_samples'], data['inputs'])
        return data, losses, shared
    return data, loss_mode(model, data), None


def loss_mode(model: nn.Module, data) -> Dict[str, Tensor]:
    """``model(..., mode='loss')`` on a preprocessed batch (dict or sequence)."""
    if isinstance(data, dict):
        return model(**data, mode='loss')
    if isinstance(data, (list, tuple)):
        return model(*data, mode='loss')
    raise TypeError(f'preprocessed data must be a dict, list or tuple, got {type(data)}')


def task_jacobian(task_losses: Mapping[str, Tensor], params: Sequence[Tensor],
                  task_params: Optional[Mapping[str, Sequence[Tensor]]] = None,
                  loss_scaler=None, retain_graph: bool = False
                  ) -> Iterator[Tuple[str, List[Tensor], List[Tensor]]]:
    """Per-task gradients by ``torch.autograd.grad`` (``.grad`` is never written).

    Yields one task at a time (in ``task_losses`` order) so a caller can flatten each row
    before the next is computed.

    Args:
        task_losses: ``{task: scalar loss}`` sharing one autograd graph.
        params: tensors every task is differentiated by (shared parameters or the shared
            representation).
        task_params: ``{task: tensors}`` differentiated by that task's loss only.
        loss_scaler: a ``GradScaler``: the gradients are those of the scaled losses.
        retain_graph: keep the graph after the last task (it is kept between tasks).

    Yields:
        ``(task, grads of params, grads of task_params[task])``; an unreached tensor gets
        zeros of its shape.
    """
    tasks = list(task_losses)
    for k, task in enumerate(tasks):
        own = list(task_params.get(task, ())) if task_params is not None else []
        wrt = list(params) + own
        loss = task_losses[task]
        loss = loss_scaler.scale(loss) if loss_scaler is not None else loss
        grads = torch.autograd.grad(loss, wrt, allow_unused=True,
                                    retain_graph=retain_graph or k < len(tasks) - 1)
        grads = [torch.zeros_like(p) if g is None else g for g, p in zip(grads, wrt)]
        yield task, grads[:len(params)], grads[len(params):]
