from .grad_conflict_hook import GradConflictHook  # noqa: F401
from .multitask_visualization_hook import MultiTaskVisualizationHook  # noqa: F401
from .balancer_hooks import BalancerHook, TaskKPIHook  # noqa: F401
from .finite_guard_hook import FiniteGuardHook  # noqa: F401
