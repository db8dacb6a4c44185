"""The interface of a neck that serves several tasks."""
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.model import BaseModule
from torch import Tensor, nn


class BaseMultiTaskNeck(BaseModule):
    """A neck whose ``forward(levels)`` returns ``{task: levels}`` for each of :attr:`tasks`.

    What the multi-task models rely on (instead of probing the neck):

    * :attr:`tasks`: the task names served, in output order;
    * :meth:`task_parameters`: the parameters only one task's output reaches (the model
      moves them from the shared to that task's parameters).

    Args:
        tasks: task names, distinct and at least one.
        init_cfg: mmengine init config.
    """

    def __init__(self, tasks: Sequence[str], init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if not tasks:
            raise ValueError(f'{type(self).__name__} needs at least one task')
        if len(set(tasks)) != len(tasks):
            raise ValueError(f'{type(self).__name__} needs distinct task names, got '
                             f'{list(tasks)}')
        self.tasks: Tuple[str, ...] = tuple(tasks)

    def task_parameters(self, task: str) -> List[nn.Parameter]:
        """Parameters only ``task``'s output reaches; none here (everything is shared).

        Raises:
            KeyError: ``task`` is not one of :attr:`tasks`.
        """
        self.check_task(task)
        return []

    def check_task(self, task: str) -> None:
        """Raise a ``KeyError`` naming the neck when ``task`` is not served."""
        if task not in self.tasks:
            raise KeyError(f'{type(self).__name__}: task {task!r} is not one of '
                           f'{list(self.tasks)}')

    def forward(self, inputs: Sequence[Tensor]) -> Dict[str, Tuple[Tensor, ...]]:
        raise NotImplementedError
