"""TorchJD's Gramian weightings (Quinton & Rey, `torchjd <https://github.com/TorchJD/torchjd>`_
0.18) as gradient balancers, through one adapter.

A ``torchjd.aggregation`` ``Weighting`` on a Gramian maps ``G G^T`` ``[m, m]`` to weights
``w [m]`` of the update ``sum_i w_i g_i``: exactly :meth:`GradBalancer.gram_weights`. The
adapter hands it the all-reduced Gram matrix of the tasks present in the batch (absent tasks
are left out of the Gramian and get no weight), so every method here is exact under DDP with
partially labelled batches and runs with ``grad_source='params'`` or ``'repr'``.

Randomised weightings (TorchJD's PCGrad draws its orders from torch's global generator) run
under a forked generator seeded by ``(seed, step)``: the same draw on every rank and across a
resume; the global generator is left untouched.

Not adapted here (see ``docs/balancers.md``): the stateful Gramian weighting ``GradVac``
(its state is positional, over the tasks of the previous call, and not a buffer; mtlunder's
native ``GradVac`` keeps it per task pair). The weightings of the full Jacobian
(``Constant``, ``Mean``, ``Random``, ``Sum``, ``ExcessMTL``, ``NashMTL``), the stateful
weightings ``MoDo``, ``SDMGrad``, ``CRMOGM`` and ``PCD`` and the aggregators without a
weighting (``ConFIG``, ``GradDrop``, ``TrimmedMean``) run through
:class:`~mtlunder.balancers.torchjd_aggregator.TorchJDAggregator` (``grad_source='params'``).
"""
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor

from mtlunder.registry import BALANCERS
from .base import GradBalancer, seeded_rng

#: TorchJD 0.18 ``Weighting`` classes (``<name>Weighting``) that take only the Gramian and keep
#: no state between calls: the ones this adapter runs
GRAMIAN_WEIGHTINGS = ('UPGrad', 'DualProj', 'MGDA', 'CAGrad', 'IMTLG', 'AlignedMTL', 'PCGrad',
                      'FairGrad', 'Krum')
#: why the other TorchJD methods are not adapted, for the error message
NOT_ADAPTED = {
    'GradVac': 'keeps per-task state between calls that is neither a buffer nor indexed by '
               'task (breaks on partially labelled batches and on resume): use mtlunder\'s '
               'native GradVac',
    **{name: "weights the full Jacobian, not its Gramian (no grad_source='repr'): use "
             f"TorchJDAggregator(aggregator={name!r})"
       for name in ('Constant', 'Mean', 'Random', 'Sum', 'ExcessMTL', 'NashMTL')},
    **{name: 'keeps per-task state between calls (and wants the cross-Gramian of two '
             f'batches for MoDo / SDMGrad): use TorchJDAggregator(aggregator={name!r})'
       for name in ('MoDo', 'SDMGrad', 'CRMOGM', 'PCD')},
    **{name: "aggregates the full Jacobian without a weighting (no grad_source='repr'): use "
             f"TorchJDAggregator(aggregator={name!r})"
       for name in ('ConFIG', 'GradDrop', 'TrimmedMean')},
}
#: registered balancer name -> (TorchJD weighting, default arguments); a ``TorchJD`` prefix
#: where mtlunder has its own implementation under the plain name. The defaults of the
#: required arguments are the papers' (FairGrad ``alpha = 1``, CAGrad ``c = 0.5``). Krum
#: needs ``n_byzantine + 3`` tasks or more, more than the demo's two, and is reached through
#: ``TorchJDWeighting(weighting='Krum', n_byzantine=...)``.
ALIASES = {
    'UPGrad': ('UPGrad', {}),
    'DualProj': ('DualProj', {}),
    'FairGrad': ('FairGrad', dict(alpha=1.0)),
    'TorchJDMGDA': ('MGDA', {}),
    'TorchJDCAGrad': ('CAGrad', dict(c=0.5)),
    'TorchJDIMTLG': ('IMTLG', {}),
    'TorchJDAlignedMTL': ('AlignedMTL', {}),
    'TorchJDPCGrad': ('PCGrad', {}),
}


@BALANCERS.register_module()
class TorchJDWeighting(GradBalancer):
    """Update ``sum_i w_i g_i`` with ``w = torchjd.aggregation.<weighting>Weighting(**kwargs)``
    applied to the Gram matrix ``[n, n]`` of the present tasks.

    Args:
        tasks: every task name.
        grad_source: ``'params'`` or ``'repr'`` (all adapted weightings need only the Gramian).
        weighting: one of :data:`GRAMIAN_WEIGHTINGS`, e.g. ``'UPGrad'``.
        seed: seed of the per-step generator of randomised weightings (PCGrad).
        **kwargs: the weighting's arguments, e.g. ``c=0.5`` (CAGrad), ``alpha=1.0``
            (FairGrad), ``n_byzantine=1`` (Krum). ``pref_vector`` (UPGrad, DualProj,
            AlignedMTL) is given over all ``tasks`` (a list or ``[T]`` tensor); each call
            passes its entries for the present tasks. ``projector`` (UPGrad, DualProj) may be
            a dict of ``torchjd.linalg``'s ``QuadprogProjector`` arguments, e.g.
            ``dict(reg_eps=1e-4)``: the dual-cone projection is exact for
            ``G / tr(G) + reg_eps I``.
    """

    grad_based = True
    gram_suffices = True

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params',
                 weighting: str = 'UPGrad', seed: int = 0, **kwargs):
        super().__init__(tasks, grad_source)
        if weighting not in GRAMIAN_WEIGHTINGS:
            reason = NOT_ADAPTED.get(weighting, 'is not a TorchJD 0.18 weighting')
            raise ValueError(f'{type(self).__name__}: TorchJD {weighting!r} {reason}; '
                             f'supported: {GRAMIAN_WEIGHTINGS}')
        self.weighting = weighting
        self.seed = int(seed)
        pref = kwargs.pop('pref_vector', None)
        self.kwargs: Dict = kwargs
        self.register_buffer('step', torch.zeros((), dtype=torch.long))
        self.register_buffer('pref_vector', None if pref is None else
                             torch.as_tensor(pref, dtype=torch.float64).reshape(-1))
        if pref is not None and len(self.pref_vector) != self.num_tasks:
            raise ValueError(f'{type(self).__name__}: pref_vector has '
                             f'{len(self.pref_vector)} entries for {self.num_tasks} tasks')
        self.build_weighting(None)                     # fail at build time on bad kwargs

    def build_weighting(self, idx: Optional[Tensor]):
        """The TorchJD ``Weighting`` for the present tasks ``idx`` (``[n]`` task indices;
        ``None``: all)."""
        from torchjd import aggregation

        kwargs = dict(self.kwargs)
        if isinstance(kwargs.get('projector'), dict):
            from torchjd.linalg import QuadprogProjector

            kwargs['projector'] = QuadprogProjector(**kwargs['projector'])
        if self.pref_vector is not None:
            pref = self.pref_vector if idx is None else self.pref_vector[idx]
            kwargs['pref_vector'] = pref.clone()
        cls = getattr(aggregation, f'{self.weighting}Weighting')
        try:
            return cls(**kwargs)
        except TypeError as err:
            raise TypeError(f'{type(self).__name__}: bad arguments {kwargs} for TorchJD '
                            f'{cls.__name__}: {err}') from None

    def gram_weights(self, gram, losses):
        tasks = list(losses)
        weighting = self.build_weighting(self.indices(tasks))
        gram = gram.double().cpu()
        with seeded_rng(self.seed, int(self.step), gram.device):
            try:
                weights = weighting(gram)
            except ValueError as err:
                raise ValueError(f'{type(self).__name__}: TorchJD {self.weighting} failed on '
                                 f'the Gramian of tasks {tasks}: {err}') from None
        return weights.detach().to(gram)

    def update(self, losses, gram=None, grads=None):
        """Advance ``step`` (the next call draws new random orders)."""
        self.step += 1

    def extra_repr(self) -> str:
        return f'tasks={self.tasks}, weighting={self.weighting!r}, kwargs={self.kwargs}'


def _named(alias: str, weighting: str, defaults: Dict) -> type:
    """A registered subclass of :class:`TorchJDWeighting` fixed to ``weighting``, with
    ``defaults`` for its arguments."""

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params', seed: int = 0,
                 **kwargs):
        TorchJDWeighting.__init__(self, tasks, grad_source, weighting, seed,
                                  **{**defaults, **kwargs})

    doc = (f'TorchJD ``{weighting}Weighting`` on the Gram matrix of the present tasks '
           f'(:class:`TorchJDWeighting` with ``weighting={weighting!r}``, defaults '
           f'{defaults}).')
    cls = type(alias, (TorchJDWeighting,), dict(__init__=__init__, __doc__=doc,
                                                __module__=__name__))
    return BALANCERS.register_module(name=alias, module=cls)


#: the named balancers, ``{alias: class}``
TORCHJD_BALANCERS = {alias: _named(alias, weighting, defaults)
                     for alias, (weighting, defaults) in ALIASES.items()}
