"""Expert-squad block (SquadNet, Chen & Er 2025; METHODS.md section 1)."""
from typing import Optional

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule, ModuleList, Sequential
from torch import Tensor


def inverted_bottleneck(channels: int, norm_cfg: dict, act_cfg: dict) -> Sequential:
    """1x1 -> BN -> act -> 3x3 depthwise -> BN -> 1x1 -> BN -> act, width ``channels``."""
    return Sequential(
        ConvModule(channels, channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg),
        ConvModule(channels, channels, 3, padding=1, groups=channels, norm_cfg=norm_cfg,
                   act_cfg=None),
        ConvModule(channels, channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg))


class SquadBlock(BaseModule):
    """One expert-squad block on ``T + S`` channel groups of width ``c``.

    ``x`` [B, c(T+S), H, W] is split into ``T`` task groups and ``S`` shared groups; task
    group ``t`` goes through its own expert, the shared groups pass unchanged, and
    ``out = x + Aggregate(cat(experts, shared))`` where ``Aggregate`` is a full-width
    inverted bottleneck. Tasks exchange information only through ``Aggregate``, so every
    expert receives gradients from every task's loss (no parameter here is task-exclusive
    for gradient purposes).

    Args:
        num_tasks: ``T`` >= 1.
        num_shared: ``S`` >= 0.
        group_channels: ``c``, width of every group.
        channel_shuffle: shuffle the concatenated groups before ``Aggregate`` as the
            reference code does. ``Aggregate`` starts with a dense 1x1 conv, so this only
            permutes that conv's input channels (a parameter-order change, same function
            class); kept for checkpoint compatibility, off by default.
        norm_cfg: norm layer of every conv (default BN).
        act_cfg: activation (default GELU).
        init_cfg: mmengine init config.

    Shapes: [B, c(T+S), H, W] -> [B, c(T+S), H, W].
    """

    def __init__(self, num_tasks: int, num_shared: int, group_channels: int,
                 channel_shuffle: bool = False, norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='GELU'), init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if num_tasks < 1 or num_shared < 0 or group_channels < 1:
            raise ValueError('SquadBlock needs num_tasks >= 1, num_shared >= 0 and '
                             f'group_channels >= 1, got {num_tasks}, {num_shared}, '
                             f'{group_channels}')
        self.num_tasks = num_tasks
        self.num_shared = num_shared
        self.group_channels = group_channels
        self.channel_shuffle = channel_shuffle
        self.channels = group_channels * (num_tasks + num_shared)
        self.experts = ModuleList(
            inverted_bottleneck(group_channels, norm_cfg, act_cfg) for _ in range(num_tasks))
        self.aggregate = inverted_bottleneck(self.channels, norm_cfg, act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f'SquadBlock expects [B, {self.channels}, H, W], '
                             f'got {tuple(x.shape)}')
        groups = x.split(self.group_channels, dim=1)
        z = torch.cat([expert(g) for expert, g in zip(self.experts, groups)]
                      + list(groups[self.num_tasks:]), dim=1)
        if self.channel_shuffle:
            b, _, h, w = z.shape
            num_groups = self.num_tasks + self.num_shared
            z = z.view(b, num_groups, self.group_channels, h, w).transpose(1, 2).reshape(
                b, self.channels, h, w)
        return x + self.aggregate(z)

