"""SquadNet: the expert-squad backbone (Chen & Er, Neurocomputing 614:128832, 2025)."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mtlunder.registry import MODELS


class ShuffleDownsample(nn.Module):
    """The reference downsampling unit between stages: a ShuffleNetV2 two-branch unit and a
    full-width feed-forward, no residual.

    - branch 1: 3x3 depthwise (stride 2) -> BN -> 1x1 -> BN -> act;
    - branch 2: 1x1 -> BN -> act -> 3x3 depthwise (stride 2) -> BN -> 1x1 -> BN -> act;
    - concat (``out_channels / 2`` each), then, with ``shuffle_groups``, a channel shuffle
      with that many groups (the reference uses ``2 (T + S)``);
    - feed-forward at ``out_channels``: 1x1 -> BN -> act -> 3x3 depthwise -> BN -> 1x1 ->
      BN -> act. Its first conv is dense, so the shuffle only permutes that conv's input
      channels (parameter order, same function class).

    Shape: [B, Cin, H, W] -> [B, Cout, ceil(H/2), ceil(W/2)].
    """

    def __init__(self, in_channels: int, out_channels: int, norm_cfg: dict, act_cfg: dict,
                 shuffle_groups: Optional[int] = None):
        from mtlunder.models.layers.squad_block import inverted_bottleneck

        super().__init__()
        if out_channels % 2:
            raise ValueError(f'ShuffleDownsample out_channels must be even, got {out_channels}')
        if shuffle_groups is not None and out_channels % shuffle_groups:
            raise ValueError(f'ShuffleDownsample out_channels {out_channels} is not divisible '
                             f'by shuffle_groups {shuffle_groups}')
        half = out_channels // 2
        self.shuffle_groups = shuffle_groups
        self.branch1 = nn.Sequential(
            ConvModule(in_channels, in_channels, 3, stride=2, padding=1, groups=in_channels,
                       norm_cfg=norm_cfg, act_cfg=None),
            ConvModule(in_channels, half, 1, norm_cfg=norm_cfg, act_cfg=act_cfg))
        self.branch2 = nn.Sequential(
            ConvModule(in_channels, half, 1, norm_cfg=norm_cfg, act_cfg=act_cfg),
            ConvModule(half, half, 3, stride=2, padding=1, groups=half, norm_cfg=norm_cfg,
                       act_cfg=None),
            ConvModule(half, half, 1, norm_cfg=norm_cfg, act_cfg=act_cfg))
        self.feed_forward = inverted_bottleneck(out_channels, norm_cfg, act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        out = torch.cat([self.branch1(x), self.branch2(x)], dim=1)
        if self.shuffle_groups:
            b, c, h, w = out.shape
            g = self.shuffle_groups
            out = out.view(b, g, c // g, h, w).transpose(1, 2).reshape(b, c, h, w)
        return self.feed_forward(out)


def task_view(x: Tensor, group_channels: int, task: int, num_tasks: int) -> Tensor:
    """``cat(group_task, shared groups)`` [B, c (1 + S), H, W] of a squad map
    [B, c (T + S), H, W] with ``c = group_channels``."""
    c = group_channels
    return torch.cat([x[:, task * c:(task + 1) * c], x[:, num_tasks * c:]], dim=1)


@MODELS.register_module()
class SquadNet(BaseModule):
    """Expert-squad backbone: T task groups and S shared groups per feature map.

    Layout (strides relative to the input): stem = 3x3 conv (stride 2) -> depthwise-separable
    conv (stride 1), so stage 1 runs at stride 2; a :class:`ShuffleDownsample` (two-branch
    unit + full-width feed-forward) before stages 2 and 3 halves the resolution and doubles
    the width, so the stages run at strides 2, 4, 8
    and the output stride is 8. Stage i has width ``group_channels[i] * (T + S)`` and
    ``depths[i]`` squad blocks; channel group g of a stage is
    ``[g * c_i, (g + 1) * c_i)``, task t owns group t, groups T..T+S-1 are shared.

    Args:
        arch: ``'base'`` [8, 8, 8], ``'small'`` [4, 4, 4] or ``'tiny'`` [2, 2, 2].
        depths: explicit squad blocks per stage (overrides ``arch``).
        num_tasks: T (ignored when ``tasks`` is given).
        num_shared: S.
        tasks: optional task names (T = len(tasks)); keys of the ``task_outputs`` dict.
        group_channels: per-group width c of each stage.
        stem_channels: stem conv width; None: the stage-1 width.
        out_indices: stages returned (0, 1, 2 at strides 2, 4, 8).
        task_outputs: return dict task -> tuple of ``cat(group_t, shared groups)`` per
            returned stage, of width ``c_i * (1 + S)``, instead of the full maps.
        shuffle: channel-shuffle before each aggregation layer (``T + S`` groups) and in
            each downsampling unit (``2 (T + S)`` groups), as the reference code does; both
            precede a dense 1x1 conv, so this changes the parameter order only.
        norm_cfg, act_cfg: of the stem, the downsampling units and the squad blocks.

    Forward: [B, 3, H, W] -> tuple of [B, c_i * (T + S), H / s_i, W / s_i] for i in
    ``out_indices``, or (``task_outputs``) dict task (name, or index when ``tasks`` is None)
    -> tuple of [B, c_i * (1 + S), H / s_i, W / s_i].
    """

    arch_settings = {'base': (8, 8, 8), 'small': (4, 4, 4), 'tiny': (2, 2, 2)}
    strides = (2, 4, 8)

    def __init__(self, arch: str = 'small', depths: Optional[Sequence[int]] = None,
                 num_tasks: int = 2, num_shared: int = 2,
                 tasks: Optional[Sequence[str]] = None,
                 group_channels: Sequence[int] = (32, 64, 128),
                 stem_channels: Optional[int] = None,
                 out_indices: Sequence[int] = (0, 1, 2), task_outputs: bool = False,
                 shuffle: bool = False, norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='GELU'), init_cfg: Optional[dict] = None):
        from mtlunder.models.layers import SquadBlock

        super().__init__(init_cfg=init_cfg)
        if depths is None:
            if arch not in self.arch_settings:
                raise ValueError(f'SquadNet arch must be one of {tuple(self.arch_settings)}, '
                                 f'got {arch!r}')
            depths = self.arch_settings[arch]
        if len(depths) != len(group_channels):
            raise ValueError(f'SquadNet depths {tuple(depths)} and group_channels '
                             f'{tuple(group_channels)} must have one entry per stage')
        self.tasks = tuple(tasks) if tasks is not None else None
        self.num_tasks = len(self.tasks) if self.tasks is not None else num_tasks
        if self.num_tasks < 1 or num_shared < 0:
            raise ValueError(f'SquadNet needs T >= 1 and S >= 0, got T={self.num_tasks}, '
                             f'S={num_shared}')
        if any(not 0 <= i < len(depths) for i in out_indices):
            raise ValueError(f'SquadNet out_indices {tuple(out_indices)} out of range for '
                             f'{len(depths)} stages')
        self.num_shared = num_shared
        self.depths = tuple(depths)
        self.group_channels = tuple(group_channels)
        self.out_indices = tuple(out_indices)
        self.task_outputs = task_outputs
        groups = self.num_tasks + num_shared
        widths = [c * groups for c in self.group_channels]
        stem_channels = stem_channels or widths[0]
        self.stem = nn.Sequential(
            ConvModule(3, stem_channels, 3, stride=2, padding=1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg),
            ConvModule(stem_channels, stem_channels, 3, padding=1, groups=stem_channels,
                       norm_cfg=norm_cfg, act_cfg=act_cfg),
            ConvModule(stem_channels, widths[0], 1, norm_cfg=norm_cfg, act_cfg=act_cfg))
        self.downsamples = nn.ModuleList(
            ShuffleDownsample(widths[i - 1], widths[i], norm_cfg, act_cfg,
                              shuffle_groups=2 * groups if shuffle else None)
            for i in range(1, len(widths)))
        self.stages = nn.ModuleList(
            nn.Sequential(*[
                SquadBlock(self.num_tasks, num_shared, c, channel_shuffle=shuffle,
                           norm_cfg=norm_cfg, act_cfg=act_cfg) for _ in range(depth)])
            for c, depth in zip(self.group_channels, self.depths))

    @property
    def out_channels(self) -> Tuple[int, ...]:
        """Channels of each returned level (per task in ``task_outputs`` mode)."""
        groups = 1 + self.num_shared if self.task_outputs else self.num_tasks + self.num_shared
        return tuple(self.group_channels[i] * groups for i in self.out_indices)

    def task_features(self, x: Tensor, stage: int, task: int) -> Tensor:
        """``cat(group_task, shared groups)`` of a stage-``stage`` map [B, c(T+S), H, W]."""
        return task_view(x, self.group_channels[stage], task, self.num_tasks)

    def forward(self, x: Tensor) -> Union[Tuple[Tensor, ...],
                                          Dict[Union[str, int], Tuple[Tensor, ...]]]:
        x = self.stem(x)
        outs = []
        for i, stage in enumerate(self.stages):
            if i:
                x = self.downsamples[i - 1](x)
            x = stage(x)
            if i in self.out_indices:
                outs.append((i, x))
        if not self.task_outputs:
            return tuple(o for _, o in outs)
        keys = self.tasks if self.tasks is not None else range(self.num_tasks)
        return {k: tuple(self.task_features(o, i, t) for i, o in outs)
                for t, k in enumerate(keys)}
