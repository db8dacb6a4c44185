from .balancer_hooks import BalancerHook, TaskKPIHook  # noqa: F401
