"""The multi-task training step: single process and DDP, AMP- and accumulation-aware.

:func:`multitask_train_step` is the one implementation; the model's ``train_step``
(``mtlunder.models.BaseMultiTaskModel`` with a balancer, or
:class:`MultiTaskTrainStepMixin` for minimal models such as the tests' toy) and the DDP
wrapper's (``MultiTaskDDP``) both call it. The model follows this protocol
(``BaseMultiTaskModel`` declares it):

* ``model(inputs, data_samples, mode='loss')`` -> flat dict with task-prefixed keys;
* ``model.extract_shared(inputs) -> tuple[Tensor]`` and
  ``model.loss_from_shared(shared, data_samples) -> dict`` (``grad_source='repr'``);
* ``model.shared_parameters()``, ``model.task_parameters(task)``;
* ``model.balancer``: the :class:`~mtlunder.balancers.BaseBalancer` (a submodule, so it is
  in the checkpoint).

Global-batch semantics under DDP. Every rank computes the mean loss of its own samples; the
global loss of task ``i`` is the mean over the ``n_i`` ranks whose batch has it. Balancers
always see the global values (identical on every rank, so are their weights):

* loss-based: one all-reduce of ``T`` loss values and ``T`` presence flags; the balancer
  combines surrogates whose value is the global loss and whose gradient is the local one
  (scaled by ``world / n_i``); DDP's own gradient averaging then yields exactly the gradient
  of the combined global loss. The combined loss goes through ``optim_wrapper.update_params``.
* gradient-based, ``grad_source='params'``: per-task gradients by ``torch.autograd.grad``
  (inside ``no_sync``, on the module: the DDP reducer is not involved), then ONE all-reduce of
  ``[loss values, presence, G (T x P), task-specific gradients]``. Row ``i`` of ``G`` is
  divided by ``n_i`` (the global-batch gradient is the average of the ranks' gradients).
* gradient-based, ``grad_source='repr'``: the per-task gradients of the shared representation
  of the rank's own samples give local Gram matrices whose sum (divided by ``n_i n_j``) is
  the Gram matrix of the global batch: all-reduce of ``[values, presence, Gram]``; the
  weighted representation gradient goes through the encoder once; a second all-reduce sums
  the parameter gradients.

The combined gradient is written into ``.grad`` (shared parameters: the balancer's update;
task-specific parameters: their own task's gradient; balancer parameters: the gradient of
``sum_i f_i(L_i)``), then the optimiser steps through the optim wrapper so gradient
accumulation (``accumulative_counts``), clipping (``clip_grad``) and AMP loss scaling keep
working: under ``AmpOptimWrapper`` the per-task gradients are taken of the scaled losses and
unscaled once after the all-reduce; what is written to ``.grad`` is scaled again so that the
wrapper's ``GradScaler`` unscales it, checks it for overflow and updates the scale.

A model without a balancer takes the plain step (mmengine's: forward, ``parse_losses`` sum,
``update_params``) with the same guard.

Non-finite values (:mod:`mtlunder.engine.non_finite`): a NaN/inf loss (on any rank), a
non-finite per-task gradient or gradient norm (without a loss scaler; under AMP overflow is
the GradScaler's business) skips the step on every rank: no optimiser step, gradients
zeroed, the buffers the forward changed put back, ``balancer.skipped_steps`` incremented (with
a balancer) and the skip published as ``skipped_steps`` / ``last_skip_reason`` in the message
hub (runtime info and scalar ``train/skipped_steps``). Whether training then stops or goes on
is the policy of :class:`~mtlunder.engine.hooks.FiniteGuardHook`.
"""
import math
from contextlib import nullcontext
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from mtlunder.balancers import BaseBalancer
from .non_finite import (BufferSnapshot, describe_losses, gradient_norm,
                         non_finite_losses, record_skipped_step)
from .task_losses import parse_task_losses


def get_balancer(model: nn.Module) -> BaseBalancer:
    """The balancer of a (possibly wrapped) multi-task model."""
    module = getattr(model, 'module', model)
    balancer = getattr(module, 'balancer', None)
    if not isinstance(balancer, BaseBalancer):
        raise AttributeError(f'{type(module).__name__} has no `balancer` submodule; build it '
                             'with mtlunder.balancers.build_balancer(cfg, tasks)')
    return balancer


def _world_size() -> int:
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def _all_reduce_sum(tensor: Tensor) -> Tensor:
    import torch.distributed as dist

    if _world_size() > 1:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def _run_forward(model, data):
    """``model(..., mode='loss')`` on a preprocessed batch (dict or sequence)."""
    if isinstance(data, dict):
        return model(**data, mode='loss')
    if isinstance(data, (list, tuple)):
        return model(*data, mode='loss')
    raise TypeError(f'preprocessed data must be a dict, list or tuple, got {type(data)}')


def _loss_scaler(optim_wrapper):
    scaler = getattr(optim_wrapper, 'loss_scaler', None)
    return scaler if scaler is not None and scaler.is_enabled() else None


def _accumulation_factor(optim_wrapper) -> float:
    """``1 / loss_factor`` that ``optim_wrapper.scale_loss`` applies this micro-step."""
    return float(optim_wrapper.scale_loss(torch.ones((), dtype=torch.float64)))


def _skip_step(optim_wrapper, buffers: BufferSnapshot, reason: str,
               balancer: Optional[BaseBalancer] = None) -> None:
    """Drop this step: gradients zeroed, buffers restored, the skip counted and published."""
    optim_wrapper.zero_grad()
    buffers.restore()
    count = None
    if balancer is not None:
        balancer.skipped_steps += 1
        count = int(balancer.skipped_steps)
    record_skipped_step(reason, count)


def _update(optim_wrapper, loss: Tensor) -> Optional[str]:
    """``optim_wrapper.update_params(loss)``, except that a non-finite gradient norm (checked
    without a loss scaler) leaves the parameters alone; returns why the step was not taken."""
    optim_wrapper.backward(optim_wrapper.scale_loss(loss))
    if not optim_wrapper.should_update():
        return None
    if _loss_scaler(optim_wrapper) is None:
        norm = float(gradient_norm(optim_wrapper.param_groups))
        if not math.isfinite(norm):
            return f'non-finite gradient norm ({norm})'
    optim_wrapper.step()
    optim_wrapper.zero_grad()
    return None


def _non_finite(tasks: Sequence[str], values: Tensor) -> List[str]:
    return [f'{t}={float(v)}' for t, v in zip(tasks, values) if not bool(torch.isfinite(v))]


def _loss_reason(bad_tasks: List[str], log_vars: Dict[str, Tensor]) -> str:
    """The global non-finite task losses, and this rank's non-finite loss keys."""
    local = non_finite_losses(log_vars)
    reason = 'non-finite task loss ' + ', '.join(bad_tasks)
    return reason + f' ({describe_losses(local)})' if local else reason + ' (on another rank)'


def _sync_values(balancer: BaseBalancer,
                 task_losses: Dict[str, Tensor]) -> Tuple[Tensor, Tensor]:
    """All-reduce detached loss values and presence: ``(global values [T], counts [T])``."""
    n = balancer.num_tasks
    buf = torch.zeros(2 * n, dtype=torch.float64)
    for task, value in task_losses.items():
        i = balancer.task_index(task)
        buf[i] = value.detach().double().cpu()
        buf[n + i] = 1
    device = next(iter(task_losses.values())).device if task_losses else torch.device('cpu')
    buf = _all_reduce_sum(buf.to(device)).cpu()
    counts = buf[n:]
    return buf[:n] / counts.clamp_min(1), counts


def _surrogates(balancer, task_losses, values, counts) -> Dict[str, Tensor]:
    """Global-valued losses with local gradients scaled by ``world / n_i``."""
    world = _world_size()
    if world == 1:
        return dict(task_losses)
    out = {}
    for i, task in enumerate(balancer.tasks):
        if counts[i] == 0:
            continue
        local = task_losses.get(task)
        if local is None:
            like = next(iter(task_losses.values())) if task_losses else torch.zeros(())
            out[task] = like.new_tensor(float(values[i])).detach()
        else:
            out[task] = (local.new_tensor(float(values[i])) +
                         (world / float(counts[i])) * (local - local.detach()))
    return out


# -------------------------------------------------------------------------------- plain
def _plain_step(model, module, data, optim_wrapper) -> Dict[str, Tensor]:
    """mmengine's ``BaseModel.train_step`` (forward, ``parse_losses`` sum, update) with the
    non-finite guard; the skip decision is all-reduced so every rank takes it."""
    buffers = BufferSnapshot(module)
    with optim_wrapper.optim_context(model):
        data = module.data_preprocessor(data, True)
        raw = _run_forward(model, data)
    loss, log_vars = module.parse_losses(raw)
    bad = non_finite_losses(log_vars)
    flag = _all_reduce_sum(torch.tensor(float(bool(bad)), device=loss.device))
    if float(flag) > 0:
        _skip_step(optim_wrapper, buffers,
                   describe_losses(bad) if bad else 'non-finite loss on another rank')
        return log_vars
    reason = _update(optim_wrapper, loss)
    if reason is not None:
        _skip_step(optim_wrapper, buffers, reason)
    return log_vars


# --------------------------------------------------------------------------- loss-based
def _loss_based_step(model, module, balancer, data, optim_wrapper) -> Dict[str, Tensor]:
    buffers = BufferSnapshot(module)
    with optim_wrapper.optim_context(model):
        data = module.data_preprocessor(data, True)
        raw = _run_forward(model, data)
    task_losses, log_vars = parse_task_losses(raw)
    values, counts = _sync_values(balancer, task_losses)
    present = counts > 0
    bad = _non_finite([t for t, p in zip(balancer.tasks, present) if p], values[present])
    if bad:
        _skip_step(optim_wrapper, buffers, _loss_reason(bad, log_vars), balancer)
        return log_vars
    if not bool(present.any()):
        raise ValueError('the batch has no loss for any of the tasks '
                         f'{balancer.tasks}: nothing to train')
    total, _ = balancer.combine(_surrogates(balancer, task_losses, values, counts))
    if not total.requires_grad:
        raise ValueError('this rank\'s batch has no labelled sample for any task while other '
                         'ranks have some; DDP cannot reduce gradients from a rank without a '
                         'loss graph: balance the tasks across ranks (or use a gradient '
                         'balancer, whose exchange is explicit)')
    reason = _update(optim_wrapper, total)
    if reason is not None:
        _skip_step(optim_wrapper, buffers, reason, balancer)
        return log_vars
    if balancer.needs_post_step_losses and optim_wrapper.should_update():
        with torch.no_grad(), optim_wrapper.optim_context(module):
            after = _run_forward(module, data)
        after_losses, _ = parse_task_losses(after)
        new_values, new_counts = _sync_values(balancer, after_losses)
        balancer.post_step({t: new_values[i] for i, t in enumerate(balancer.tasks)
                            if new_counts[i] > 0})
    log_vars['loss'] = total.detach()
    return log_vars


# ----------------------------------------------------------------------- gradient-based
def _param_groups(module, balancer):
    """Trainable shared, per-task and balancer parameters (disjoint, in a fixed order)."""
    balancer_params = [p for p in balancer.parameters() if p.requires_grad]
    seen = {id(p) for p in balancer_params}

    def take(params):
        out = []
        for p in params:
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                out.append(p)
        return out

    shared = take(module.shared_parameters())
    task_params = {t: take(module.task_parameters(t)) for t in balancer.tasks}
    return shared, task_params, balancer_params


def _flat(grads, params, dtype) -> Tensor:
    return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1).to(dtype)
                      for g, p in zip(grads, params)]) if params else torch.zeros(0, dtype=dtype)


def _add_grads(params, flat: Tensor, factor: float) -> None:
    offset = 0
    for p in params:
        n = p.numel()
        g = (flat[offset:offset + n] * factor).view_as(p).to(p.dtype)
        offset += n
        if p.grad is None:
            p.grad = g.clone()
        else:
            p.grad.add_(g)


def _transform(balancer, tasks, values, balancer_params):
    """``f(L)``, ``f'(L)`` and ``d sum f / d balancer params`` at the global values."""
    leaf = values.clone().requires_grad_(True)
    with torch.enable_grad():
        out = balancer.transform_losses(leaf, tasks)
        total = out.sum()
        if not total.requires_grad:
            return out.detach(), torch.ones_like(values), []
        targets = [leaf] + list(balancer_params)
        grads = torch.autograd.grad(total, targets, allow_unused=True)
    factor = grads[0] if grads[0] is not None else torch.ones_like(values)
    extra = [g if g is not None else torch.zeros_like(p)
             for g, p in zip(grads[1:], balancer_params)]
    return out.detach(), factor.detach(), extra


def _upstream(outputs: Sequence[Tensor], params: Sequence[nn.Parameter]) -> set:
    """Ids of ``params`` that ``outputs`` depend on (walk of the autograd graph)."""
    wanted = {id(p) for p in params}
    found, seen = set(), set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        var = getattr(fn, 'variable', None)
        if var is not None and id(var) in wanted:
            found.add(id(var))
        stack.extend(nxt for nxt, _ in fn.next_functions if nxt is not None)
    return found


def _gradient_step(model, module, balancer, data, optim_wrapper) -> Dict[str, Tensor]:
    shared, task_params, balancer_params = _param_groups(module, balancer)
    if not shared:
        raise ValueError(f'{type(module).__name__}.shared_parameters() has no trainable '
                         'parameter; a gradient balancer needs shared parameters')
    scaler = _loss_scaler(optim_wrapper)
    use_repr = balancer.grad_source == 'repr'
    n = balancer.num_tasks
    dtype = torch.float64 if any(p.dtype == torch.float64 for p in shared) else torch.float32
    device = shared[0].device
    no_sync = model.no_sync() if hasattr(model, 'no_sync') else nullcontext()
    buffers = BufferSnapshot(module)
    with no_sync:
        with optim_wrapper.optim_context(module):
            data = module.data_preprocessor(data, True)
            if use_repr:
                feats = tuple(module.extract_shared(data['inputs']))
                raw = module.loss_from_shared(feats, data['data_samples'])
            else:
                raw = _run_forward(module, data)
        task_losses, log_vars = parse_task_losses(raw)
        present = [t for t in balancer.tasks if t in task_losses]
        for task in task_losses:
            balancer.task_index(task)
        if use_repr:
            # shared parameters upstream of z get the weighted z-gradient through one encoder
            # backward; the others (e.g. a shared neck after z) get the weighted task grads
            up = _upstream(feats, shared)
            encoder = [p for p in shared if id(p) in up]
            after = [p for p in shared if id(p) not in up]
            wrt = list(feats) + after
        else:
            encoder, after, wrt = [], shared, shared
        sizes = [w.numel() for w in wrt]
        local = torch.zeros(n, sum(sizes), dtype=dtype, device=device)
        heads = {t: torch.zeros(sum(p.numel() for p in task_params[t]), dtype=dtype,
                                device=device) for t in balancer.tasks}
        values_local = torch.zeros(2 * n, dtype=dtype, device=device)
        for k, task in enumerate(present):
            i = balancer.task_index(task)
            loss = task_losses[task]
            values_local[i], values_local[n + i] = loss.detach().to(dtype), 1
            loss = scaler.scale(loss) if scaler is not None else loss
            grads = torch.autograd.grad(loss, wrt + task_params[task], allow_unused=True,
                                        retain_graph=use_repr or k < len(present) - 1)
            local[i] = _flat(grads[:len(wrt)], wrt, dtype)
            heads[task] = _flat(grads[len(wrt):], task_params[task], dtype)
        scale = scaler.get_scale() if scaler is not None else 1.0
        head_flat = torch.cat([heads[t] for t in balancer.tasks])
        if use_repr:
            n_z = sum(f.numel() for f in feats)
            z_rows = local[:, :n_z].double()
            buf = _all_reduce_sum(torch.cat([values_local.double(),
                                             (z_rows @ z_rows.T).flatten()])).cpu()
            counts = buf[n:2 * n]
            gram = buf[2 * n:].view(n, n)
        else:
            buf = _all_reduce_sum(torch.cat([values_local, local.flatten(), head_flat]))
            local = buf[2 * n:2 * n + local.numel()].view(n, -1)
            head_flat = buf[2 * n + local.numel():]
            buf = buf.cpu()
            counts = buf[n:2 * n].double()
        values = buf[:n].double() / counts.clamp_min(1)

    idx = [i for i in range(n) if counts[i] > 0]
    tasks = [balancer.tasks[i] for i in idx]
    if not tasks:
        raise ValueError('the batch has no loss for any of the tasks '
                         f'{balancer.tasks}: nothing to train')
    bad = _non_finite(tasks, values[idx])
    if bad:
        _skip_step(optim_wrapper, buffers, _loss_reason(bad, log_vars), balancer)
        return log_vars

    transformed, factor, balancer_grads = _transform(balancer, tasks, values[idx],
                                                     balancer_params)
    losses = dict(zip(tasks, transformed))
    # row i of the global gradient matrix: f_i'(L_i) / n_i * (sum over ranks) / loss scale
    row_scale = torch.zeros(n, dtype=torch.float64)
    row_scale[idx] = factor / counts[idx] / scale
    head_bounds = torch.tensor([0] + [heads[t].numel() for t in balancer.tasks]).cumsum(0)
    head_flat = torch.cat([head_flat[head_bounds[i]:head_bounds[i + 1]] * float(row_scale[i])
                           for i in range(n)])

    if use_repr:
        gram = gram[idx][:, idx] * (row_scale[idx][:, None] * row_scale[idx][None, :])
        if not bool(torch.isfinite(gram).all()):
            return _non_finite_grads(balancer, optim_wrapper, scaler, shared, log_vars,
                                     buffers)
        coeffs = balancer.gram_weights(gram, losses).double()
        balancer._record(tasks, coeffs)
        mix = torch.zeros(n, dtype=torch.float64)
        mix[idx] = coeffs * row_scale[idx] * scale   # keeps the loss scale for the backward
        z_update = mix.to(local) @ local
        grad_outputs, offset = [], 0
        for feat in feats:
            grad_outputs.append(z_update[offset:offset + feat.numel()].view_as(feat)
                                .to(feat.dtype))
            offset += feat.numel()
        enc = torch.autograd.grad(feats, encoder, grad_outputs=grad_outputs,
                                  allow_unused=True) if encoder else ()
        buf = _all_reduce_sum(torch.cat([_flat(enc, encoder, dtype) / scale,
                                         z_update[n_z:] / scale, head_flat]))
        n_shared = sum(p.numel() for p in encoder + after)
        update, head_flat = buf[:n_shared], buf[n_shared:]
        shared = encoder + after
    else:
        grads = local[idx] * row_scale[idx].to(local)[:, None]
        if not bool(torch.isfinite(grads).all()):
            return _non_finite_grads(balancer, optim_wrapper, scaler, shared, log_vars,
                                     buffers)
        update, _ = balancer.combine_grads(grads, losses)

    write = scale * _accumulation_factor(optim_wrapper)
    _add_grads(shared, update, write)
    for i, task in enumerate(balancer.tasks):
        if counts[i] > 0:
            _add_grads(task_params[task], head_flat[head_bounds[i]:head_bounds[i + 1]], write)
    for p, g in zip(balancer_params, balancer_grads):
        _add_grads([p], g.reshape(-1), write)
    optim_wrapper._inner_count += 1
    if optim_wrapper.should_update():
        optim_wrapper.step()
        optim_wrapper.zero_grad()
    return log_vars


def _non_finite_grads(balancer, optim_wrapper, scaler, shared, log_vars, buffers):
    """Overflow of scaled gradients under AMP is the GradScaler's business (it skips the step
    and lowers the scale); without a scaler the step is skipped and counted."""
    if scaler is None:
        _skip_step(optim_wrapper, buffers, 'non-finite per-task gradient', balancer)
        return log_vars
    for p in shared:
        p.grad = torch.full_like(p, float('inf'))
    optim_wrapper._inner_count += 1
    if optim_wrapper.should_update():
        optim_wrapper.step()
        optim_wrapper.zero_grad()
    return log_vars


def multitask_train_step(model: nn.Module, data, optim_wrapper,
                         balancer: BaseBalancer = None) -> Dict[str, Tensor]:
    """One training iteration of a multi-task model (wrapped in DDP or not).

    Args:
        model: the multi-task model or its ``MultiTaskDDP`` wrapper.
        data: the data batch from the dataloader (before the data preprocessor).
        optim_wrapper: an ``OptimWrapper`` (``AmpOptimWrapper``, ``CPUAutocastOptimWrapper``,
            ``accumulative_counts``, ``clip_grad`` all supported).
        balancer: defaults to ``model.balancer``; without one, the plain guarded step.

    Returns:
        Detached log variables: ``loss`` and every ``<task>.<name>`` entry.
    """
    module = getattr(model, 'module', model)
    balancer = balancer if balancer is not None else module.balancer
    if balancer is None:
        return _plain_step(model, module, data, optim_wrapper)
    if balancer.grad_based:
        return _gradient_step(model, module, balancer, data, optim_wrapper)
    return _loss_based_step(model, module, balancer, data, optim_wrapper)


class MultiTaskTrainStepMixin:
    """Gives a multi-task ``BaseModel`` the multi-task ``train_step`` (single process; under
    DDP the ``MultiTaskDDP`` wrapper calls the same function)."""

    def train_step(self, data, optim_wrapper) -> Dict[str, Tensor]:
        return multitask_train_step(self, data, optim_wrapper)
