"""Squad neck: FPN-style laterals, then expert-squad blocks per level (METHODS.md section 1)."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import ModuleDict, ModuleList, Sequential
from torch import Tensor, nn

from mtlunder.models.layers import SquadBlock
from mtlunder.registry import MODELS
from mtlunder.structures import tasks_of_kind
from .base_multitask_neck import BaseMultiTaskNeck


@MODELS.register_module()
class SquadNeck(BaseMultiTaskNeck):
    """Multi-task neck whose task groups are kept apart by expert-squad blocks.

    Each used backbone level is projected to ``C = c(T+S)`` channels (1x1 lateral + norm),
    optionally fused top-down as in FPN (nearest upsampling + sum), and passed through
    ``num_blocks`` :class:`SquadBlock` of its own. Task ``t`` reads ``cat(group_t, shared)``
    (``c(1+S)`` channels), projected by a 1x1 conv + norm to ``out_channels`` (identity when
    equal). Tasks in ``extra_levels_tasks`` get ``num_outs - num_levels`` extra stride-2 3x3
    convs on their last output (mmdet FPN ``add_extra_convs='on_output'``). With ``T = 1``
    this is a plain single-task neck (laterals, top-down, blocks, projection).

    Args:
        in_channels: channels of each backbone level (finest first).
        tasks: task names, ``T = len(tasks)``.
        num_shared: ``S``, shared groups.
        group_channels: ``c``, width of every group.
        num_blocks: ``N`` squad blocks per level.
        out_channels: per-task output width (None: ``c(1+S)``, no projection).
        top_down: FPN top-down fusion of the laterals.
        start_level, end_level: backbone levels used (end exclusive, -1 = last), as in FPN.
        num_outs: output levels of the tasks in ``extra_levels_tasks`` (None: used levels).
        extra_levels_tasks: tasks that get the extra levels (None: the boxes tasks of the
            task table present, i.e. ``'det'``).
        channel_shuffle: see :class:`SquadBlock` (parameter order only).
        norm_cfg, act_cfg: of laterals/blocks/projections (act only inside blocks).

    Forward: tuple of [B, in_channels[i], H_i, W_i] -> dict task -> tuple of
    [B, out_channels, H_l, W_l], finest first (``num_outs`` levels for extra-level tasks,
    ``num_levels`` for the others).
    """

    def __init__(self, in_channels: Sequence[int], tasks: Sequence[str], num_shared: int = 2,
                 group_channels: int = 32, num_blocks: int = 1,
                 out_channels: Optional[int] = None, top_down: bool = True,
                 start_level: int = 0, end_level: int = -1, num_outs: Optional[int] = None,
                 extra_levels_tasks: Optional[Sequence[str]] = None,
                 channel_shuffle: bool = False,
                 norm_cfg: dict = dict(type='BN'), act_cfg: dict = dict(type='GELU'),
                 init_cfg: Optional[dict] = None):
        super().__init__(tasks, init_cfg=init_cfg)
        self.in_channels = list(in_channels)
        num_ins = len(self.in_channels)
        self.end_level = num_ins if end_level == -1 else end_level
        if not 0 <= start_level < self.end_level <= num_ins:
            raise ValueError(f'SquadNeck levels [{start_level}, {end_level}) do not fit '
                             f'{num_ins} inputs')
        self.start_level = start_level
        self.num_levels = self.end_level - start_level
        self.num_outs = self.num_levels if num_outs is None else num_outs
        if self.num_outs < self.num_levels:
            raise ValueError(f'SquadNeck num_outs={num_outs} < {self.num_levels} used levels')
        if extra_levels_tasks is None:
            extra_levels_tasks = tuple(t for t in self.tasks if t in tasks_of_kind('boxes'))
        unknown = set(extra_levels_tasks) - set(self.tasks)
        if unknown:
            raise ValueError(f'SquadNeck extra_levels_tasks {sorted(unknown)} not in tasks '
                             f'{list(self.tasks)}')
        self.extra_levels_tasks = tuple(extra_levels_tasks)
        self.num_shared = num_shared
        self.group_channels = group_channels
        self.top_down = top_down
        num_tasks = len(self.tasks)
        channels = group_channels * (num_tasks + num_shared)
        task_width = group_channels * (1 + num_shared)
        self.out_channels = task_width if out_channels is None else out_channels

        self.lateral_convs = ModuleList(
            ConvModule(c, channels, 1, norm_cfg=norm_cfg, act_cfg=None)
            for c in self.in_channels[start_level:self.end_level])
        self.blocks = ModuleList(
            Sequential(*[
                SquadBlock(num_tasks, num_shared, group_channels, channel_shuffle, norm_cfg,
                           act_cfg) for _ in range(num_blocks)
            ]) for _ in range(self.num_levels))
        self.out_convs = ModuleDict({
            t: ModuleList(
                nn.Identity() if self.out_channels == task_width else ConvModule(
                    task_width, self.out_channels, 1, norm_cfg=norm_cfg, act_cfg=None)
                for _ in range(self.num_levels))
            for t in self.tasks
        })
        self.extra_convs = ModuleDict({
            t: ModuleList(
                ConvModule(self.out_channels, self.out_channels, 3, stride=2, padding=1,
                           act_cfg=None) for _ in range(self.num_outs - self.num_levels))
            for t in self.extra_levels_tasks
        })

    def forward(self, inputs: Sequence[Tensor]) -> Dict[str, Tuple[Tensor, ...]]:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'SquadNeck expects {len(self.in_channels)} input levels, '
                             f'got {len(inputs)}')
        laterals = [
            conv(inputs[self.start_level + i]) for i, conv in enumerate(self.lateral_convs)
        ]
        if self.top_down:
            for i in range(self.num_levels - 1, 0, -1):
                laterals[i - 1] = laterals[i - 1] + F.interpolate(
                    laterals[i], size=laterals[i - 1].shape[2:], mode='nearest')
        num_tasks = len(self.tasks)
        groups = [blocks(x).split(self.group_channels, dim=1)
                  for blocks, x in zip(self.blocks, laterals)]
        outs = {}
        for t, task in enumerate(self.tasks):
            levels: List[Tensor] = [
                proj(torch.cat((g[t], ) + g[num_tasks:], dim=1))
                for proj, g in zip(self.out_convs[task], groups)
            ]
            if task in self.extra_convs:
                for conv in self.extra_convs[task]:
                    levels.append(conv(levels[-1]))
            outs[task] = tuple(levels)
        return outs

    def task_parameters(self, task: str) -> List[nn.Parameter]:
        """Parameters only ``task``'s loss reaches: its projections and extra convs.

        The experts of the squad blocks are not listed: ``Aggregate`` mixes every group into
        every task's output, so each expert is reached by every task's loss.
        """
        self.check_task(task)
        params = list(self.out_convs[task].parameters())
        if task in self.extra_convs:
            params += list(self.extra_convs[task].parameters())
        return params
