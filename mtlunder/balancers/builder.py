"""Build a balancer from a config, filling in the model's tasks."""
from typing import Optional, Sequence, Union

from mtlunder.registry import BALANCERS
from .base import BaseBalancer


def build_balancer(cfg: Union[dict, BaseBalancer, None],
                   tasks: Sequence[str]) -> BaseBalancer:
    """``cfg`` (e.g. ``dict(type='DWA')``) -> balancer; ``tasks`` default to the model's.

    ``None`` gives equal weighting (``EW``). A config that names tasks must name exactly
    the model's tasks (in any order).
    """
    if isinstance(cfg, BaseBalancer):
        return cfg
    cfg = dict(type='EW') if cfg is None else dict(cfg)
    given: Optional[Sequence[str]] = cfg.get('tasks')
    if given is not None and sorted(given) != sorted(tasks):
        raise ValueError(f'balancer tasks {list(given)} differ from the model tasks '
                         f'{list(tasks)}')
    cfg.setdefault('tasks', list(tasks))
    return BALANCERS.build(cfg)
