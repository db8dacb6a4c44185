"""The task views of a SquadNet's feature maps: ``cat(group_t, shared groups)``."""
from typing import Dict, Sequence, Tuple

from torch import Tensor

from mtlunder.registry import MODELS
from ..backbones.squadnet import task_view
from .base_multitask_neck import BaseMultiTaskNeck


@MODELS.register_module()
class SquadGroupsNeck(BaseMultiTaskNeck):
    """Parameter-free neck of the SquadNet paper's dense models: each task's head reads
    ``cat(group_t, shared groups)`` of every backbone level.

    Input: levels [B, c_i (T + S), H_i, W_i] of a :class:`~mtlunder.models.SquadNet`
    (``task_outputs=False``), finest first. Output: ``{task: levels [B, c_i (1 + S), H_i,
    W_i]}``. Keeping the full maps as the backbone output lets gradient balancers with
    ``grad_source='repr'`` use them as the shared representation.

    Args:
        tasks: the task names, in the backbone's group order (group t is task t).
        num_shared: S.
        group_channels: per-group width c_i of each level.
    """

    def __init__(self, tasks: Sequence[str], num_shared: int, group_channels: Sequence[int],
                 init_cfg=None):
        super().__init__(tasks, init_cfg=init_cfg)
        self.num_shared = int(num_shared)
        self.group_channels = tuple(group_channels)

    def forward(self, inputs: Sequence[Tensor]) -> Dict[str, Tuple[Tensor, ...]]:
        num_tasks = len(self.tasks)
        if len(inputs) != len(self.group_channels):
            raise ValueError(f'SquadGroupsNeck expects {len(self.group_channels)} levels, '
                             f'got {len(inputs)}')
        for x, c in zip(inputs, self.group_channels):
            if x.shape[1] != c * (num_tasks + self.num_shared):
                raise ValueError(f'SquadGroupsNeck: a level has {x.shape[1]} channels, '
                                 f'expected {c} x (T={num_tasks} + S={self.num_shared})')
        return {task: tuple(task_view(x, c, t, num_tasks)
                            for x, c in zip(inputs, self.group_channels))
                for t, task in enumerate(self.tasks)}
