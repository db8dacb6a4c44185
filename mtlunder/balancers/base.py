"""The one interface every balancer implements.

A balancer turns per-task losses (loss-based methods) or per-task gradients (gradient-based
methods) into one update. It is a plain ``nn.Module``: everything that must survive a resume
(loss history, KPI EMA, learned scales, logits, schedule step, skipped-step count) is a
buffer or a parameter, so ``state_dict`` round-trips exactly.

Conventions shared by all balancers:

* ``tasks`` is the ordered list of every task the balancer knows; a call receives only the
  tasks present in the batch (an absent task has no key) and per-task state is indexed by
  :meth:`task_index`.
* Loss-based methods derive from :class:`LossBalancer` and implement
  :meth:`~LossBalancer.weighted_loss`; gradient-based methods derive from
  :class:`GradBalancer` and implement :meth:`~GradBalancer.gram_weights` (when inner
  products suffice, ``gram_suffices = True``) or :meth:`~GradBalancer.aggregate` (full
  gradients).
* Computing weights has no side effects. What a training step changes (loss history, step
  counters, caches, EMAs) happens in the balancer's public ``update`` (called by the
  ``combine*`` templates in training mode only), the applied weights are stored by
  :meth:`BaseBalancer.record`, a skipped step is counted by
  :meth:`BaseBalancer.record_skipped_step`; epoch, validation and post-step state by
  :meth:`~BaseBalancer.epoch_end`, :meth:`~BaseBalancer.update_kpis` and
  :meth:`~BaseBalancer.post_step`.
* ``grad_source`` of a gradient-based balancer is ``'params'`` (per-task gradients of the
  shared parameters, ``[T, P]``) or ``'repr'`` (gradients of the shared representation, the
  MGDA-UB trick; needs ``gram_suffices``).
"""
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from mtlunder.registry import BALANCERS

#: floor applied before a log so that a zero loss never produces ``-inf``/NaN gradients
LOG_EPS = 1e-8


def seeded_generator(seed: int, step: int) -> torch.Generator:
    """A CPU generator that depends only on ``(seed, step)``: the same draw on every rank."""
    return torch.Generator().manual_seed((int(seed) * 1_000_003 + int(step)) % (2**63 - 1))


@contextmanager
def seeded_rng(seed: int, step: int, device: torch.device):
    """Fork torch's CPU generator (and ``device``'s when CUDA) and seed them from
    ``(seed, step)``; restores them on exit."""
    value = seeded_generator(seed, step).initial_seed()
    cuda = [device] if device.type == 'cuda' else []
    with torch.random.fork_rng(devices=cuda):
        torch.default_generator.manual_seed(value)
        for dev in cuda:
            with torch.cuda.device(dev):
                torch.cuda.manual_seed(value)
        yield


@BALANCERS.register_module()
class BaseBalancer(nn.Module):
    """What every balancer has: its tasks, the recorded weights and skipped-step count,
    and the epoch / validation / post-step hooks. Derive from :class:`LossBalancer` or
    :class:`GradBalancer`.

    Args:
        tasks: every task name this balancer weights, e.g. ``['det', 'enh']``.
        grad_source: for gradient-based balancers, ``'params'`` or ``'repr'``.
    """

    grad_based: bool = False
    gram_suffices: bool = False
    #: grad sources a gradient-based balancer accepts
    sources: Tuple[str, ...] = ('params', 'repr')
    #: FAMO-style balancers need the losses of the same batch after the optimiser step
    needs_post_step_losses: bool = False
    #: state kept over the rows of all tasks: a batch without every task is refused
    needs_every_task: bool = False
    #: names of buffers whose shape is only known at the first step (resized on load)
    lazy_buffers: Tuple[str, ...] = ()

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params'):
        super().__init__()
        if not tasks:
            raise ValueError(f'{type(self).__name__} needs a non-empty list of tasks')
        if len(set(tasks)) != len(tasks):
            raise ValueError(f'{type(self).__name__}: duplicate task names in {list(tasks)}')
        if self.grad_based and grad_source not in self.sources:
            raise ValueError(f'{type(self).__name__} supports grad_source in {self.sources}, '
                             f'got {grad_source!r}')
        if grad_source == 'repr' and self.grad_based and not self.gram_suffices:
            raise ValueError(f'{type(self).__name__} needs full gradients; '
                             "grad_source='repr' requires a Gram-only method")
        self.tasks: List[str] = list(tasks)
        self.grad_source = grad_source
        self.register_buffer('skipped_steps', torch.zeros((), dtype=torch.long))
        self.last_weights: Dict[str, float] = {}

    @property
    def num_tasks(self) -> int:
        return len(self.tasks)

    def task_index(self, task: str) -> int:
        """Position of ``task`` in :attr:`tasks`; unknown names raise a clear ``KeyError``."""
        try:
            return self.tasks.index(task)
        except ValueError:
            raise KeyError(f'{type(self).__name__}: task {task!r} is not one of '
                           f'{self.tasks}') from None

    def indices(self, tasks: Sequence[str]) -> Tensor:
        """Long tensor of :meth:`task_index` for each of ``tasks``."""
        return torch.tensor([self.task_index(t) for t in tasks], dtype=torch.long)

    # ------------------------------------------------------------ state update hooks
    def epoch_end(self) -> None:
        """Called once at the end of every training epoch (on every rank)."""

    def update_kpis(self, kpis: Dict[str, float]) -> None:
        """Called once per validation with each task's KPI in ``[0, 1]`` (same on all ranks)."""

    def post_step(self, losses: Dict[str, Tensor]) -> None:
        """Called after the optimiser step with the same batch's new losses (FAMO)."""

    # ------------------------------------------------------------------ recorded state
    def record(self, tasks: Sequence[str], weights) -> Dict[str, float]:
        """Store the weights just applied, ``{task: float(weight)}``, in
        :attr:`last_weights` (what the ``BalancerHook`` logs) and return a copy."""
        values = weights.detach().double().cpu().tolist() if torch.is_tensor(weights) \
            else list(weights)
        self.last_weights = {t: float(w) for t, w in zip(tasks, values)}
        return dict(self.last_weights)

    def record_skipped_step(self) -> int:
        """Count a training step skipped for a non-finite loss or gradient; returns the
        count (the ``skipped_steps`` buffer, checkpointed)."""
        self.skipped_steps += 1
        return int(self.skipped_steps)

    # ------------------------------------------------------------------------ helpers

    @staticmethod
    def _stack(losses: Dict[str, Tensor]) -> Tensor:
        """``[n]`` tensor of the loss values (keeps the autograd graph)."""
        return torch.stack([v.reshape(()) for v in losses.values()])

    @staticmethod
    def _safe_log(values: Tensor) -> Tensor:
        """``log(max(L, eps))``: finite for a zero loss, zero gradient below ``eps``."""
        return values.clamp_min(LOG_EPS).log()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        for name in self.lazy_buffers:
            key = prefix + name
            if key in state_dict and getattr(self, name).shape != state_dict[key].shape:
                setattr(self, name, torch.empty_like(state_dict[key]))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    def extra_repr(self) -> str:
        return f'tasks={self.tasks}'


class LossBalancer(BaseBalancer):
    """Base of the loss-weighting methods: one combined loss, back-propagated once.

    Template (:meth:`combine`, what the training step calls)::

        combine(losses)
         ├─ weighted_loss(losses) -> (total, weights)   # pure: no state changes
         ├─ update(losses)                             # training mode only: the state
         └─ record(losses, weights)                    # last_weights, for logging
    """

    grad_based = False

    def weighted_loss(self, losses: Dict[str, Tensor]) -> Tuple[Tensor, Tensor]:
        """The combined loss of the present tasks and the weight of each; no side effects.

        Args:
            losses: ``{task: scalar loss}`` of the present tasks (with autograd graph).

        Returns:
            ``(total, weights [n])``: the scalar to back-propagate and the per-task weights
            it applied (in the order of ``losses``).
        """
        raise NotImplementedError

    def update(self, losses: Dict[str, Tensor]) -> None:
        """State change of one training step (loss history, step counter); none here."""

    def combine(self, losses: Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, float]]:
        """:meth:`weighted_loss`, then :meth:`update` (training mode) and :meth:`record`.

        Returns:
            ``(total, {task: weight})``.
        """
        total, weights = self.weighted_loss(losses)
        if self.training:
            self.update(losses)
        return total, self.record(losses, weights)


class GradBalancer(BaseBalancer):
    """Base of the gradient-based methods (``grad_based``): per-task gradients of the shared
    parameters (``grad_source='params'``, ``[T, P]``) or of the shared representation
    (``'repr'``, the MGDA-UB trick; needs ``gram_suffices``) are combined into one update.

    Template (what the training step calls)::

        combine_grads(grads [n, P], losses)          # 'params'
         ├─ gram_suffices:
         │   combine_gram(gram_matrix(grads), losses) -> coeffs; sum_i coeffs_i grads_i
         └─ otherwise (full gradients: DBMTL, GradDrop, MoCo, TorchJD aggregators):
             ├─ aggregate(grads, losses) -> (update, weights)  # pure: no state changes
             ├─ update(losses, grads=grads)                    # training mode only
             └─ record(losses, weights)
        combine_gram(gram [n, n], losses)            # 'repr' calls this directly
         ├─ gram_weights(gram, losses) -> coeffs     # pure: no state changes
         ├─ update(losses, gram=gram)                # training mode only: the state
         └─ record(losses, coeffs)                   # last_weights, for logging
    """

    grad_based = True

    def transform_losses(self, values: Tensor, tasks: Sequence[str]) -> Tensor:
        """Elementwise transform ``f_i(L_i)`` applied before taking gradients.

        The engine takes gradients of the raw losses and multiplies row ``i`` by
        ``f_i'(L_i)`` (exact under DDP, where ``L_i`` is the global mean); gradients of
        ``sum_i f_i`` w.r.t. this balancer's parameters train them (IMTL-L). Identity here.

        Args:
            values: ``[n]`` loss values of ``tasks``.
        """
        return values

    def gram_weights(self, gram: Tensor, losses: Dict[str, Tensor]) -> Tensor:
        """Coefficients ``c [n]`` of the update ``sum_i c_i g_i`` from the Gram matrix; no
        side effects.

        Args:
            gram: ``[n, n]`` inner products ``g_i . g_j`` of the present tasks (in the order
                of ``losses``), float64.
            losses: the present tasks' (transformed) loss values, detached.
        """
        raise NotImplementedError(f'{type(self).__name__} does not work from a Gram matrix')

    def update(self, losses: Dict[str, Tensor], gram: Optional[Tensor] = None,
               grads: Optional[Tensor] = None) -> None:
        """State change of one training step, from the same inputs the weights were
        computed from (``gram`` for Gram methods, ``grads`` for full-gradient ones); none
        here."""

    def combine_gram(self, gram: Tensor, losses: Dict[str, Tensor]) -> Tensor:
        """:meth:`gram_weights`, then :meth:`update` (training mode) and :meth:`record`;
        returns the coefficients ``[n]``."""
        coeffs = self.gram_weights(gram, losses)
        if self.training:
            self.update(losses, gram=gram)
        self.record(losses, coeffs)
        return coeffs

    def aggregate(self, grads: Tensor, losses: Dict[str, Tensor]) -> Tuple[Tensor, Tensor]:
        """The update of the full-gradient methods (``gram_suffices = False``) and the
        weights it reports; no side effects.

        Args:
            grads: ``[n, P]`` gradient of each present task (rows in the order of ``losses``).
            losses: the present tasks' (transformed) loss values, detached.

        Returns:
            ``(update [P], weights [n])``.
        """
        raise NotImplementedError(f'{type(self).__name__} implements neither gram_weights '
                                  'nor aggregate')

    def combine_grads(self, grads: Tensor,
                      losses: Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, float]]:
        """Combine per-task gradients into one update: through :meth:`combine_gram` when
        the Gram matrix suffices, else :meth:`aggregate`, :meth:`update` (training mode)
        and :meth:`record`.

        Args:
            grads: ``[n, P]`` gradient of each present task (rows in the order of ``losses``).
            losses: the present tasks' (transformed) loss values, detached.

        Returns:
            ``(update [P], {task: weight})``; ``update = sum_i weights[i] * grads[i]`` for
            the methods that are linear combinations of the gradients.
        """
        if self.gram_suffices:
            coeffs = self.combine_gram(gram_matrix(grads), losses)
            return combine_rows(coeffs, grads), dict(self.last_weights)
        update, weights = self.aggregate(grads, losses)
        if self.training:
            self.update(losses, grads=grads)
        return update, self.record(losses, weights)


def gram_matrix(grads: Tensor) -> Tensor:
    """``[n, n]`` inner products of the rows of ``grads [n, P]`` (one BLAS call), float64.

    Every DDP rank holds bit-identical all-reduced gradients in identically laid-out buffers
    and runs the same kernel with the same thread count, so the Gram matrices agree; the
    ``T x T`` solvers that follow are plain Python (:mod:`mtlunder.balancers.linalg`),
    because LAPACK results on tiny matrices vary with their workspaces.
    """
    return (grads @ grads.T).double().cpu()


def combine_rows(coeffs: Tensor, grads: Tensor) -> Tensor:
    """``sum_i coeffs[i] grads[i]`` (``[P]``) by elementwise accumulation (no reduction
    kernel, so the result does not depend on memory alignment)."""
    values = coeffs.double().cpu().tolist()
    update = grads[0] * values[0]
    for value, row in zip(values[1:], grads[1:]):
        update.add_(row, alpha=value)
    return update
