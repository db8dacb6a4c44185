"""The multi-task training step: single process and DDP, AMP- and accumulation-aware.

:func:`multitask_train_step` is the one implementation; the model's ``train_step``
(``mtlunder.models.BaseMultiTaskModel`` with a balancer, or
:class:`MultiTaskTrainStepMixin` for minimal models such as the tests' toy) and the DDP
wrapper's (``MultiTaskDDP``) both call it. The model follows this protocol
(``BaseMultiTaskModel`` declares it):

* ``model(inputs, data_samples, mode='loss')`` -> flat dict with task-prefixed keys;
* ``model.extract_shared(inputs) -> tuple[Tensor]`` and
  ``model.loss_from_shared(shared, data_samples, inputs) -> dict`` (``grad_source='repr'``);
* ``model.shared_parameters()``, ``model.task_parameters(task)``;
* ``model.balancer``: a :class:`~mtlunder.balancers.LossBalancer` or
  :class:`~mtlunder.balancers.GradBalancer` (a submodule, so it is in the checkpoint).

Call graph::

    multitask_train_step(model, data, optim_wrapper)
     ├─ no balancer: _plain_step      loss_forward -> parse_losses -> _update
     ├─ loss-based: _loss_based_step  loss_forward (DDP forward) -> _sync_values
     │                                -> balancer.combine(_surrogates(...)) -> _update
     │                                [-> loss_mode -> _sync_values -> balancer.post_step]
     └─ gradient-based: _gradient_step
          ├─ _param_groups                         # shared / per-task / balancer params
          ├─ loss_forward(module, data, shared_repr)  (task_jacobian.py; z for 'repr')
          ├─ _local_jacobian -> task_jacobian       # per-task grads, one [T, Q] buffer
          ├─ _exchange_jacobian -> _exchange        # ONE all-reduce [values, presence, ...]
          ├─ _transform                             # f_i(L_i), f_i'(L_i), balancer grads
          ├─ 'params': _combine_params -> balancer.combine_grads
          │  'repr':   _combine_repr   -> balancer.combine_gram, encoder backward,
          │                               second all-reduce
          └─ _write_gradients -> _count_and_step    # .grad; optim_wrapper.backward / step

:class:`~mtlunder.engine.hooks.GradConflictHook` uses the same ``loss_forward`` and
``task_jacobian``.

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
working, through the wrapper's public methods only (``scale_loss`` gives the accumulation
factor, ``backward`` counts the micro-step, ``should_update`` / ``step`` / ``zero_grad``):
under ``AmpOptimWrapper`` the per-task gradients are taken of the scaled losses and unscaled
once after the all-reduce; what is written to ``.grad`` is scaled again so that the
wrapper's ``GradScaler`` unscales it, checks it for overflow and updates the scale.

A model without a balancer takes the plain step (mmengine's: forward, ``parse_losses`` sum,
``update_params``) with the same guard.

Non-finite values (:mod:`mtlunder.engine.non_finite`): a NaN/inf loss (on any rank), a
non-finite per-task gradient or gradient norm (without a loss scaler; under AMP overflow is
the GradScaler's business) skips the step on every rank: no optimiser step, gradients
zeroed, the buffers the forward changed put back, the skip counted by
``balancer.record_skipped_step()`` (with a balancer) and published as ``skipped_steps`` /
``last_skip_reason`` in the message hub (runtime info and scalar ``train/skipped_steps``). Whether training then stops or goes on
is the policy of :class:`~mtlunder.engine.hooks.FiniteGuardHook`.
"""
import math
from contextlib import nullcontext
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from mtlunder.balancers import BaseBalancer
from mtlunder.registry import FUNCTIONS
from .non_finite import (BufferSnapshot, describe_losses, gradient_norm,
                         non_finite_losses, record_skipped_step)
from .task_jacobian import loss_forward, loss_mode, task_jacobian
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


def _loss_scaler(optim_wrapper):
    """The enabled ``GradScaler`` of an ``AmpOptimWrapper``, else ``None``."""
    from mmengine.optim import AmpOptimWrapper

    if isinstance(optim_wrapper, AmpOptimWrapper) and optim_wrapper.loss_scaler.is_enabled():
        return optim_wrapper.loss_scaler
    return None


def _accumulation_factor(optim_wrapper) -> float:
    """``1 / loss_factor`` that ``optim_wrapper.scale_loss`` applies this micro-step."""
    return float(optim_wrapper.scale_loss(torch.ones((), dtype=torch.float64)))


def _skip_step(optim_wrapper, buffers: BufferSnapshot, reason: str,
               balancer: Optional[BaseBalancer] = None) -> None:
    """Drop this step: gradients zeroed, buffers restored, the skip counted and published."""
    optim_wrapper.zero_grad()
    buffers.restore()
    count = balancer.record_skipped_step() if balancer is not None else None
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
        data, raw, _ = loss_forward(model, data)
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
        data, raw, _ = loss_forward(model, data)
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
            after = loss_mode(module, data)
        after_losses, _ = parse_task_losses(after)
        new_values, new_counts = _sync_values(balancer, after_losses)
        balancer.post_step({t: new_values[i] for i, t in enumerate(balancer.tasks)
                            if new_counts[i] > 0})
    log_vars['loss'] = total.detach()
    return log_vars


# ----------------------------------------------------------------------- gradient-based
class _ParamGroups(NamedTuple):
    """Trainable parameters, disjoint, in a fixed order."""
    shared: List[nn.Parameter]
    tasks: Dict[str, List[nn.Parameter]]
    balancer: List[nn.Parameter]


class _LocalJacobian(NamedTuple):
    """This rank's task Jacobian (rows in ``balancer.tasks`` order, zeros if absent)."""
    values: Tensor      # [2T]: loss values, then presence flags (0/1)
    rows: Tensor        # [T, Q]: d L_t / d wrt (the shared representation and/or parameters)
    heads: Tensor       # [sum_t P_t]: d L_t / d task_params[t], concatenated by task


class _Exchanged(NamedTuple):
    """The Jacobian after the exchange across ranks."""
    values: Tensor      # [T] float64 CPU: global mean loss of each task (same on all ranks)
    counts: Tensor      # [T] float64 CPU: number of ranks with a loss for the task
    rows: Tensor        # [T, Q]: 'params' summed over ranks; 'repr' this rank's
    heads: Tensor       # [sum_t P_t]: 'params' summed over ranks; 'repr' this rank's
    gram: Optional[Tensor] = None   # 'repr': [T, T] float64 CPU, summed over ranks


def _param_groups(module, balancer) -> _ParamGroups:
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
    return _ParamGroups(shared, task_params, balancer_params)


def _flat(grads: Sequence[Tensor], dtype) -> Tensor:
    return torch.cat([g.reshape(-1).to(dtype) for g in grads]) if grads else \
        torch.zeros(0, dtype=dtype)


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


def _split_shared(feats, shared) -> Tuple[list, list]:
    """``(encoder, after)``: shared parameters upstream of the representation ``feats``
    (they get the weighted z-gradient through one encoder backward) and the others, e.g. a
    shared neck after ``z`` (they get the weighted task gradients)."""
    if feats is None:
        return [], list(shared)
    up = _upstream(feats, shared)
    return [p for p in shared if id(p) in up], [p for p in shared if id(p) not in up]


def _local_jacobian(balancer, task_losses, wrt, task_params, dtype, scaler,
                    retain_graph) -> _LocalJacobian:
    """Per-task gradients of this rank's (scaled) losses, flattened into one buffer."""
    n, device = balancer.num_tasks, wrt[0].device
    rows = torch.zeros(n, sum(w.numel() for w in wrt), dtype=dtype, device=device)
    heads = [torch.zeros(sum(p.numel() for p in task_params[t]), dtype=dtype, device=device)
             for t in balancer.tasks]
    values = torch.zeros(2 * n, dtype=dtype, device=device)
    present = {t: task_losses[t] for t in balancer.tasks if t in task_losses}
    for task, loss in present.items():
        i = balancer.task_index(task)
        values[i], values[n + i] = loss.detach().to(dtype), 1
    for task, grads, own in task_jacobian(present, wrt, task_params, scaler, retain_graph):
        i = balancer.task_index(task)
        rows[i] = _flat(grads, dtype)
        heads[i] = _flat(own, dtype)
    return _LocalJacobian(values, rows, torch.cat(heads))


def _exchange(local_values: Tensor, payload: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """ONE all-reduce (sum over ranks) of ``[loss values, presence, payload]``; returns the
    global mean losses and the counts (float64, CPU) and the summed payload."""
    n = local_values.numel() // 2
    buf = _all_reduce_sum(torch.cat([local_values.to(payload.dtype), payload.reshape(-1)]))
    head = buf[:2 * n].double().cpu()
    counts = head[n:]
    return head[:n] / counts.clamp_min(1), counts, buf[2 * n:]


def _exchange_jacobian(jac: _LocalJacobian, n_z: Optional[int]) -> _Exchanged:
    """``'params'`` (``n_z`` None): the rows and head gradients are summed over ranks.
    ``'repr'``: the Gram matrix of the first ``n_z`` columns (the representation gradients
    of this rank's samples) is summed; rows and heads stay local."""
    n = jac.rows.shape[0]
    if n_z is None:
        values, counts, buf = _exchange(jac.values, torch.cat([jac.rows.flatten(), jac.heads]))
        return _Exchanged(values, counts, buf[:jac.rows.numel()].view(n, -1),
                          buf[jac.rows.numel():])
    z_rows = jac.rows[:, :n_z].double()
    values, counts, gram = _exchange(jac.values, (z_rows @ z_rows.T).flatten())
    return _Exchanged(values, counts, jac.rows, jac.heads, gram.cpu().view(n, n))


def _scale_heads(heads: Tensor, bounds: Tensor, row_scale: Tensor) -> Tensor:
    """Task ``i``'s slice ``bounds[i]:bounds[i+1]`` of ``heads`` times ``row_scale[i]``."""
    return torch.cat([heads[bounds[i]:bounds[i + 1]] * float(row_scale[i])
                      for i in range(len(bounds) - 1)])


def _combine_repr(balancer, idx, ex: _Exchanged, row_scale, bounds, scale, feats, encoder,
                  after, losses, dtype):
    """Gram weights of the representation gradients, the weighted z-gradient through the
    encoder, and the second all-reduce (parameter gradients and heads).

    Returns:
        ``(shared update [P_enc + P_after], summed head gradients)`` or ``None`` when the
        scaled Gram matrix is not finite.
    """
    n = balancer.num_tasks
    gram = ex.gram[idx][:, idx] * (row_scale[idx][:, None] * row_scale[idx][None, :])
    if not bool(torch.isfinite(gram).all()):
        return None
    coeffs = balancer.combine_gram(gram, losses).double()
    mix = torch.zeros(n, dtype=torch.float64)
    mix[idx] = coeffs * row_scale[idx] * scale   # keeps the loss scale for the backward
    z_update = mix.to(ex.rows) @ ex.rows
    grad_outputs, offset = [], 0
    for feat in feats:
        grad_outputs.append(z_update[offset:offset + feat.numel()].view_as(feat)
                            .to(feat.dtype))
        offset += feat.numel()
    enc = torch.autograd.grad(feats, encoder, grad_outputs=grad_outputs,
                              allow_unused=True) if encoder else ()
    enc = [torch.zeros_like(p) if g is None else g for g, p in zip(enc, encoder)]
    heads = _scale_heads(ex.heads, bounds, row_scale)
    buf = _all_reduce_sum(torch.cat([_flat(enc, dtype) / scale, z_update[offset:] / scale,
                                     heads]))
    n_shared = sum(p.numel() for p in encoder + after)
    return buf[:n_shared], buf[n_shared:]


def _combine_params(balancer, idx, ex: _Exchanged, row_scale, bounds, losses):
    """The balancer's combination of the global parameter gradients.

    Returns:
        ``(shared update [P], head gradients)`` or ``None`` when the gradients are not
        finite.
    """
    grads = ex.rows[idx] * row_scale[idx].to(ex.rows)[:, None]
    if not bool(torch.isfinite(grads).all()):
        return None
    update, _ = balancer.combine_grads(grads, losses)
    return update, _scale_heads(ex.heads, bounds, row_scale)


def _head_bounds(groups: _ParamGroups) -> Tensor:
    """``[T + 1]`` offsets of each task's slice in the concatenated head gradients."""
    return torch.tensor([0] + [sum(p.numel() for p in params)
                               for params in groups.tasks.values()]).cumsum(0)


def _write_gradients(optim_wrapper, groups: _ParamGroups, shared, update, heads, bounds,
                     counts, balancer_grads, scale) -> None:
    """Add the update to ``.grad`` (scaled for the wrapper's loss scaler and accumulation)
    and count the micro-step (:func:`_count_and_step`)."""
    write = scale * _accumulation_factor(optim_wrapper)
    _add_grads(shared, update, write)
    for i, task in enumerate(groups.tasks):
        if counts[i] > 0:
            _add_grads(groups.tasks[task], heads[bounds[i]:bounds[i + 1]], write)
    for p, g in zip(groups.balancer, balancer_grads):
        _add_grads([p], g.reshape(-1), write)
    _count_and_step(optim_wrapper)


def _count_and_step(optim_wrapper) -> None:
    """Count this micro-step with the wrapper's public ``backward`` (of a zero leaf that
    reaches no parameter: the gradients are already in ``.grad``), then step the optimiser
    through the wrapper (clipping, AMP unscale and overflow check) when the gradient
    accumulation is complete."""
    device = next(p.device for group in optim_wrapper.param_groups for p in group['params'])
    optim_wrapper.backward(torch.zeros((), device=device, requires_grad=True))
    if optim_wrapper.should_update():
        optim_wrapper.step()
        optim_wrapper.zero_grad()


def _gradient_step(model, module, balancer, data, optim_wrapper) -> Dict[str, Tensor]:
    """Task Jacobian -> exchange across ranks -> combine -> write gradients (see the module
    docstring)."""
    groups = _param_groups(module, balancer)
    if not groups.shared:
        raise ValueError(f'{type(module).__name__}.shared_parameters() has no trainable '
                         'parameter; a gradient balancer needs shared parameters')
    scaler = _loss_scaler(optim_wrapper)
    use_repr = balancer.grad_source == 'repr'
    dtype = torch.float64 if any(p.dtype == torch.float64 for p in groups.shared) \
        else torch.float32
    buffers = BufferSnapshot(module)
    with model.no_sync() if hasattr(model, 'no_sync') else nullcontext():
        with optim_wrapper.optim_context(module):
            data, raw, feats = loss_forward(module, data, use_repr)
        task_losses, log_vars = parse_task_losses(raw)
        for task in task_losses:
            balancer.task_index(task)
        encoder, after = _split_shared(feats, groups.shared)
        wrt = list(feats) + after if use_repr else groups.shared
        jac = _local_jacobian(balancer, task_losses, wrt, groups.tasks, dtype, scaler,
                              retain_graph=use_repr)
        ex = _exchange_jacobian(jac, sum(f.numel() for f in feats) if use_repr else None)

    idx = [i for i in range(balancer.num_tasks) if ex.counts[i] > 0]
    tasks = [balancer.tasks[i] for i in idx]
    if not tasks:
        raise ValueError('the batch has no loss for any of the tasks '
                         f'{balancer.tasks}: nothing to train')
    bad = _non_finite(tasks, ex.values[idx])
    if bad:
        _skip_step(optim_wrapper, buffers, _loss_reason(bad, log_vars), balancer)
        return log_vars
    transformed, factor, balancer_grads = _transform(balancer, tasks, ex.values[idx],
                                                     groups.balancer)
    losses = dict(zip(tasks, transformed))
    scale = scaler.get_scale() if scaler is not None else 1.0
    # row i of the global gradient matrix: f_i'(L_i) / n_i * (sum over ranks) / loss scale
    row_scale = torch.zeros(balancer.num_tasks, dtype=torch.float64)
    row_scale[idx] = factor / ex.counts[idx] / scale
    bounds = _head_bounds(groups)
    if use_repr:
        out = _combine_repr(balancer, idx, ex, row_scale, bounds, scale, feats, encoder, after,
                            losses, dtype)
    else:
        out = _combine_params(balancer, idx, ex, row_scale, bounds, losses)
    if out is None:
        return _non_finite_grads(balancer, optim_wrapper, scaler, groups.shared, log_vars,
                                 buffers)
    update, heads = out
    _write_gradients(optim_wrapper, groups, encoder + after if use_repr else groups.shared,
                     update, heads, bounds, ex.counts, balancer_grads, scale)
    return log_vars


def _non_finite_grads(balancer, optim_wrapper, scaler, shared, log_vars, buffers):
    """Overflow of scaled gradients under AMP is the GradScaler's business (it skips the step
    and lowers the scale); without a scaler the step is skipped and counted."""
    if scaler is None:
        _skip_step(optim_wrapper, buffers, 'non-finite per-task gradient', balancer)
        return log_vars
    for p in shared:
        p.grad = torch.full_like(p, float('inf'))
    _count_and_step(optim_wrapper)
    return log_vars


@FUNCTIONS.register_module()
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
