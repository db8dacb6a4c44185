"""TorchJD's aggregators and weightings that need more than the Gramian (Quinton & Rey,
`torchjd <https://github.com/TorchJD/torchjd>`_ 0.18), as gradient balancers through one
adapter (the Gramian ones are in :mod:`.torchjd_adapter`).

:class:`TorchJDAggregator` hands the method the ``[n, P]`` matrix of the present tasks'
all-reduced gradients (``grad_source='params'`` only), identical on every DDP rank, so the
update is exact under DDP with partially labelled batches:

* aggregators without a weighting (``ConFIG``, ``GradDrop``, ``TrimmedMean``): their
  vector is the update; the reported weights are the least-squares coefficients ``c`` of it
  over the rows (``G G^T c = G d``; ``d`` need not lie in the rows' span for GradDrop and
  TrimmedMean);
* weighted aggregators (``Mean``, ``Sum``, ``Constant``, ``Random``, ``NashMTL``,
  ``ExcessMTL``): their weighting of the Jacobian gives ``w``, the update is
  ``sum_i w_i g_i``;
* ``MoDo`` and ``SDMGrad`` (weightings of ``J_1 J_2^T`` from two independent batches) get
  the one-batch Gramian ``J J^T`` (the step has one batch; TorchJD warns that this loses
  their convergence guarantee); ``CRMOGM`` smooths a Gramian weighting of
  :data:`~.torchjd_adapter.GRAMIAN_WEIGHTINGS` (default ``MGDA``) and gets the Gramian;
  ``PCD`` (priority-constrained descent: the FIRST task of ``tasks`` is the primary
  objective) gets the Gramian.

Randomised methods (``Random``, ``GradDrop``) run under a forked generator seeded by
``(seed, step)`` (CPU, and the gradients' CUDA device): the same draw on every rank and
across a resume; the global generators are left untouched.

Stateful methods (``NashMTL``, ``ExcessMTL``, ``MoDo``, ``SDMGrad``, ``CRMOGM``, ``PCD``) keep
positional state over the rows. Here it is held in buffers indexed by task (resized on
load), injected into a fresh TorchJD object before each call and read back after it, so
weights are pure and the state survives a resume; a batch without all tasks is refused.

Not adapted: :data:`NOT_ADAPTED` (the error messages use it).
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mtlunder.registry import BALANCERS
from .base import GradBalancer, combine_rows, gram_matrix, seeded_rng
from .torchjd_adapter import GRAMIAN_WEIGHTINGS

#: aggregators whose output vector is the update
VECTOR_AGGREGATORS = ('ConFIG', 'GradDrop', 'TrimmedMean')
#: weighted aggregators: their weighting of the Jacobian gives the weights
JACOBIAN_WEIGHTED = ('Mean', 'Sum', 'Constant', 'Random', 'NashMTL', 'ExcessMTL')
#: ``<name>Weighting`` classes fed the Gramian of the present tasks
GRAMIAN_FED = ('MoDo', 'SDMGrad', 'CRMOGM', 'PCD')
AGGREGATORS = VECTOR_AGGREGATORS + JACOBIAN_WEIGHTED + GRAMIAN_FED
#: methods that draw from torch's generator
RANDOMISED = ('GradDrop', 'Random')
#: state of the stateful TorchJD classes (by class name): attributes carried between calls,
#: each a tensor whose first dimension is the task (or a scalar)
STATE_ATTRS = {
    '_NashMTLWeighting': ('prvs_alpha', 'step'),
    'ExcessMTLWeighting': ('_weights', '_sq_grad_sum', '_initial_w', '_warmup_w_sum',
                           '_n_steps'),
    'MoDoWeighting': ('_lambda', ),
    'SDMGradWeighting': ('_w', ),
    'CRMOGMWeighting': ('_lambda', ),
    'PCDWeighting': ('_sq_norm_ema', '_n_steps'),
}
#: classes whose ``_ensure_state`` (re)creates their state for an input, with what it takes
#: (the input matrix, or its number of rows): called before the saved state is put in, so
#: that the forward keeps it
ENSURE_STATE = dict(ExcessMTLWeighting='matrix', MoDoWeighting='matrix',
                    SDMGradWeighting='matrix', PCDWeighting='rows')
#: arguments given over all tasks (a list or ``[T]`` tensor); a call passes the present ones
PER_TASK_ARGS = ('pref_vector', 'leak', 'weights', 'initial_weights')
#: TorchJD 0.18 methods needing more than the Gramian that are not adapted, with the reason
NOT_ADAPTED = {
    'Krum': 'needs only the Gramian: use TorchJDWeighting(weighting=\'Krum\')',
    'GradVac': 'keeps positional state in a Gramian weighting: not adapted; mtlunder has a '
               'native GradVac',
}
#: registered balancer name -> (TorchJD method, default arguments); a ``TorchJD`` prefix
#: where mtlunder has (or gets) its own implementation under the plain name. ``TrimmedMean``
#: needs ``2 trim_number + 1`` tasks: the default ``trim_number = 0`` (the mean) runs on the
#: demo's two tasks. ``Constant`` needs ``weights``.
ALIASES = {
    'ConFIG': ('ConFIG', {}),
    'TorchJDGradDrop': ('GradDrop', {}),
    'TrimmedMean': ('TrimmedMean', dict(trim_number=0)),
    'Mean': ('Mean', {}),
    'Sum': ('Sum', {}),
    'Constant': ('Constant', {}),
    'Random': ('Random', {}),
    'TorchJDNashMTL': ('NashMTL', {}),
    'ExcessMTL': ('ExcessMTL', {}),
    'MoDo': ('MoDo', {}),
    'SDMGrad': ('SDMGrad', {}),
    'CRMOGM': ('CRMOGM', {}),
    'PCD': ('PCD', {}),
}


@BALANCERS.register_module()
class TorchJDAggregator(GradBalancer):
    """Update from ``torchjd.aggregation.<aggregator>`` applied to the ``[n, P]`` gradients of
    the present tasks (see the module docstring for how each kind is fed and weighted).

    Args:
        tasks: every task name.
        grad_source: ``'params'`` only (the methods need the per-task gradients).
        aggregator: one of :data:`AGGREGATORS`, e.g. ``'ConFIG'``.
        seed: seed of the per-step generator of ``Random`` and ``GradDrop``.
        **kwargs: the TorchJD class's arguments, e.g. ``trim_number=1`` (TrimmedMean),
            ``max_norm=0.0`` (NashMTL), ``gamma=0.1`` (MoDo). :data:`PER_TASK_ARGS`
            (``pref_vector``, ``leak``, ``weights``, ``initial_weights``) are given over all
            ``tasks``. ``NashMTL``'s ``n_tasks`` is set here. ``CRMOGM``'s ``weighting`` is a
            Gramian weighting name or ``dict(type=name, **arguments)`` (default ``'MGDA'``).
    """

    grad_based = True
    sources = ('params', )

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params',
                 aggregator: str = 'ConFIG', seed: int = 0, **kwargs):
        super().__init__(tasks, grad_source)
        if aggregator not in AGGREGATORS:
            reason = NOT_ADAPTED.get(aggregator, 'is not a TorchJD 0.18 aggregator')
            raise ValueError(f'{type(self).__name__}: TorchJD {aggregator!r} {reason}; '
                             f'supported: {AGGREGATORS}')
        self.aggregator = aggregator
        self.seed = int(seed)
        self.per_task = {}
        for name in PER_TASK_ARGS:
            if kwargs.get(name) is not None:
                value = torch.as_tensor(kwargs.pop(name), dtype=torch.float64).reshape(-1)
                if len(value) != self.num_tasks:
                    raise ValueError(f'{type(self).__name__}: {name} has {len(value)} entries '
                                     f'for {self.num_tasks} tasks {self.tasks}')
                self.per_task[name] = value
        self.kwargs: Dict = kwargs
        self.register_buffer('step', torch.zeros((), dtype=torch.long))
        method = self.build(torch.arange(self.num_tasks))   # fail at build time on bad kwargs
        #: buffer name -> (submodule path, attribute) of the method's state
        self.state_names = {
            '_'.join(filter(None, ('state', path.replace('.', '_'), attr.strip('_')))):
            (path, attr)
            for path, module in method.named_modules()
            for attr in STATE_ATTRS.get(type(module).__name__, ())}
        for name in self.state_names:
            self.register_buffer(name, torch.zeros(0))
        self.lazy_buffers = tuple(self.state_names)

    @property
    def stateful(self) -> bool:
        return bool(self.state_names)

    @property
    def needs_every_task(self) -> bool:
        return self.stateful

    def build(self, idx: Tensor):
        """The TorchJD module to call for the present tasks ``idx`` (``[n]`` task indices):
        the aggregator (:data:`VECTOR_AGGREGATORS`) or a weighting."""
        from torchjd import aggregation

        kwargs = dict(self.kwargs)
        for name, value in self.per_task.items():
            kwargs[name] = value[idx].clone()
        if self.aggregator == 'NashMTL':
            kwargs['n_tasks'] = len(idx)
        if self.aggregator == 'CRMOGM':
            inner = kwargs.pop('weighting', 'MGDA')
            inner = dict(type=inner) if isinstance(inner, str) else dict(inner)
            name = inner.pop('type')
            if name not in GRAMIAN_WEIGHTINGS:
                raise ValueError(f'{type(self).__name__}: CRMOGM smooths a Gramian weighting '
                                 f'of {GRAMIAN_WEIGHTINGS}, got {name!r}')
            kwargs['weighting'] = getattr(aggregation, f'{name}Weighting')(**inner)
        cls = getattr(aggregation, self.aggregator if self.aggregator in
                      VECTOR_AGGREGATORS + JACOBIAN_WEIGHTED else f'{self.aggregator}Weighting')
        try:
            method = cls(**kwargs)
        except TypeError as err:
            raise TypeError(f'{type(self).__name__}: bad arguments {kwargs} for TorchJD '
                            f'{cls.__name__}: {err}') from None
        return method.weighting if self.aggregator in JACOBIAN_WEIGHTED else method

    # ------------------------------------------------------------------ state transfer
    def _inject(self, method, idx: Tensor) -> None:
        """Forward pre-hooks that put this balancer's state (rows ``idx``) into the stateful
        submodules of a fresh ``method`` when they are called."""
        modules = dict(method.named_modules())
        for path in {p for p, _ in self.state_names.values()}:
            items = [(getattr(self, name), attr) for name, (p, attr) in
                     self.state_names.items() if p == path]

            def hook(module, args, items=items):
                import numpy as np

                stat = args[0]
                takes = ENSURE_STATE.get(type(module).__name__)
                if takes is not None:
                    module._ensure_state(stat if takes == 'matrix' else stat.shape[0])
                for saved, attr in items:
                    if saved.numel() == 0:                  # None: keep the fresh value
                        continue
                    value = saved[idx.to(saved.device)] if saved.dim() else saved
                    current = getattr(module, attr)
                    if isinstance(current, np.ndarray):
                        value = value.detach().cpu().double().numpy()
                    elif isinstance(current, (int, float)):
                        value = type(current)(value.item())
                    else:
                        value = value.to(device=stat.device, dtype=stat.dtype)
                    setattr(module, attr, value)
                if type(module).__name__ == '_NashMTLWeighting' and module.step > 0:
                    module._init_optim_problem()            # TorchJD builds it at step 0

            modules[path].register_forward_pre_hook(hook)

    def _extract(self, method, idx: Tensor) -> Dict[str, Tensor]:
        """``{buffer name: tensor}`` of ``method``'s state after a call, rows placed at
        ``idx`` of ``[T, ...]`` tensors (``[0]`` for an attribute that is ``None``)."""
        modules = dict(method.named_modules())
        out = {}
        for name, (path, attr) in self.state_names.items():
            value = getattr(modules[path], attr)
            if value is None:
                out[name] = torch.zeros(0)
                continue
            value = torch.as_tensor(value, dtype=torch.float64 if isinstance(value, float)
                                    else None).detach().clone()
            if value.dim():
                full = value.new_zeros((self.num_tasks, ) + value.shape[1:])
                full[idx.to(value.device)] = value
                value = full
            out[name] = value
        return out

    # ------------------------------------------------------------------------- combine
    def solve(self, grads: Tensor, losses: Dict[str, Tensor]
              ) -> Tuple[Tensor, Tensor, Dict[str, Tensor]]:
        """The update, its weights and the method's new state; no side effects.

        Args:
            grads: ``[n, P]`` gradients of the present tasks (rows in the order of ``losses``).
            losses: the present tasks' loss values.

        Returns:
            ``(update [P], weights [n] float64, state {buffer name: tensor})``.
        """
        tasks = list(losses)
        if self.stateful and len(tasks) != self.num_tasks:
            missing = [t for t in self.tasks if t not in losses]
            raise ValueError(f'{type(self).__name__}: TorchJD {self.aggregator} keeps state '
                             f'over the rows of all tasks {self.tasks}; this batch lacks '
                             f'{missing} (label every task in every batch, or use a '
                             f'stateless method)')
        idx = self.indices(tasks)
        method = self.build(idx)
        self._inject(method, idx)
        stat = gram_matrix(grads) if self.aggregator in GRAMIAN_FED else grads
        with seeded_rng(self.seed, int(self.step), grads.device):
            try:
                out = method(stat)
            except ValueError as err:
                raise ValueError(f'{type(self).__name__}: TorchJD {self.aggregator} failed on '
                                 f'the gradients of tasks {tasks}: {err}') from None
        if self.aggregator in VECTOR_AGGREGATORS:
            update = out.to(grads.dtype)
            gram = gram_matrix(grads)
            weights = torch.linalg.pinv(gram, hermitian=True) @ (grads @ update).double().cpu()
        else:
            weights = out.detach().double().cpu()
            update = combine_rows(weights, grads)
        return update, weights, self._extract(method, idx)

    def aggregate(self, grads, losses):
        update, weights, _ = self.solve(grads, losses)
        return update, weights

    def update(self, losses, gram=None, grads=None, state: Optional[Dict[str, Tensor]] = None):
        """Store the method's new state (``state`` from :meth:`solve`, recomputed from
        ``grads`` when not given) and advance ``step``."""
        if self.stateful:
            if state is None:
                state = self.solve(grads, losses)[2]
            for name, value in state.items():
                setattr(self, name, value)
        self.step += 1

    def combine_grads(self, grads, losses):
        """:meth:`solve` once, so that the state stored is the one the weights came from."""
        update, weights, state = self.solve(grads, losses)
        if self.training:
            self.update(losses, grads=grads, state=state)
        return update, self.record(losses, weights)

    def extra_repr(self) -> str:
        return f'tasks={self.tasks}, aggregator={self.aggregator!r}, kwargs={self.kwargs}'


def _named(alias: str, aggregator: str, defaults: Dict) -> type:
    """A registered subclass of :class:`TorchJDAggregator` fixed to ``aggregator``, with
    ``defaults`` for its arguments."""

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params', seed: int = 0,
                 **kwargs):
        TorchJDAggregator.__init__(self, tasks, grad_source, aggregator, seed,
                                   **{**defaults, **kwargs})

    doc = (f'TorchJD ``{aggregator}`` on the gradients of the present tasks '
           f'(:class:`TorchJDAggregator` with ``aggregator={aggregator!r}``, defaults '
           f'{defaults}).')
    cls = type(alias, (TorchJDAggregator, ), dict(__init__=__init__, __doc__=doc,
                                                  __module__=__name__))
    return BALANCERS.register_module(name=alias, module=cls)


#: the named balancers, ``{alias: class}``
TORCHJD_AGGREGATORS = {alias: _named(alias, aggregator, defaults)
                       for alias, (aggregator, defaults) in ALIASES.items()}
