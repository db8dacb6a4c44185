"""PBI: penalty-based boundary intersection (Zhang & Li, "MOEA/D: a multiobjective
evolutionary algorithm based on decomposition", IEEE TEVC 2007) as a scalarization of the
task losses."""
from typing import Optional, Sequence

from mtlunder.registry import BALANCERS
from .base import LossBalancer
from .stch import task_vector

#: relative distance from the preference ray below which ``L - z`` counts as on it
RAY_TOL = 1e-12


@BALANCERS.register_module()
class PBI(LossBalancer):
    """Distance along and away from the preference ray of the present tasks::

        r = L - z,  u = p / ||p||
        d1 = <r, u>                 (progress along the ray)
        d2 = || r - d1 u ||         (distance from the ray)
        total = d1 + theta * d2

    over the present tasks only (``p``, ``z`` restricted to them). Reported weights are
    ``d total / d L = u + theta (r - d1 u) / d2`` (``u`` on the ray, where ``d2 = 0`` and
    the subgradient ``0`` of the norm is taken, also within ``RAY_TOL ||r||`` of it); they
    can be negative: PBI pulls a task whose loss is below the ray back toward it.

    Args:
        tasks: every task name.
        theta: penalty ``>= 0`` on the distance from the ray (MOEA/D: 5).
        pref: ``[T]`` preference over all tasks, positive (default all 1).
        ideal: ``[T]`` ideal point ``z`` over all tasks (default 0).
    """

    def __init__(self, tasks: Sequence[str], theta: float = 5.0,
                 pref: Optional[Sequence[float]] = None,
                 ideal: Optional[Sequence[float]] = None):
        super().__init__(tasks)
        if theta < 0:
            raise ValueError(f'PBI theta must be >= 0, got {theta}')
        self.theta = float(theta)
        self.register_buffer('pref', task_vector(pref, self.tasks, 1.0, 'PBI', 'pref'))
        self.register_buffer('ideal', task_vector(ideal, self.tasks, 0.0, 'PBI', 'ideal'))
        if not bool((self.pref > 0).all()):
            raise ValueError(f'PBI pref must be positive, got {self.pref.tolist()}')

    def distances(self, values, idx):
        """``(d1, d2, r_perp)`` of the loss values ``[n]`` of the tasks ``idx``: the scalars
        and the ``[n]`` component of ``L - z`` orthogonal to the ray."""
        pref = self.pref[idx].to(values)
        unit = pref / pref.norm()
        r = values - self.ideal[idx].to(values)
        d1 = (r * unit).sum()
        perp = r - d1 * unit
        if float(perp.detach().norm()) <= RAY_TOL * float(r.detach().norm()):
            perp = perp * 0                    # on the ray: rounding only, subgradient 0
        return d1, perp.norm(), perp

    def weighted_loss(self, losses):
        values = self._stack(losses)
        idx = self.indices(list(losses))
        d1, d2, perp = self.distances(values, idx)
        unit = (self.pref[idx] / self.pref[idx].norm()).to(values)
        d2_value = d2.detach()
        away = perp.detach() / d2_value if float(d2_value) > 0 else perp.detach() * 0
        return d1 + self.theta * d2, unit + self.theta * away

    def extra_repr(self) -> str:
        return f'tasks={self.tasks}, theta={self.theta}'
