"""ETR-NLP backbone: a small stack of explicit-task-routing blocks (reconstruction).

See :mod:`mtlunder.models.layers.etr_nlp` for what is reconstructed; the backbone layout
(stem, stage widths, stride-2 average pooling between stages) is our own choice.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mtlunder.models.layers.etr_nlp import ETRBlock
from mtlunder.registry import MODELS


@MODELS.register_module()
class ETRNLPNet(BaseModule):
    """Backbone of :class:`ETRBlock` stages with one feature stream per task.

    Stem: 3x3 conv (stride 2) -> 3x3 conv (stride 2), common to all tasks. Stage i
    (strides 4, 8, 16, ...) starts with a 2x2 average pool of every task stream (i > 0; a
    parameter-free downsampling that keeps the routing) and runs ``depths[i]`` ETR blocks of
    width ``widths[i]``. Block k of the net uses primitive seed ``seed + 2 * k``.

    Args:
        tasks: task names (T = len(tasks)).
        widths: per-task width of each stage.
        depths: ETR blocks per stage.
        gamma, exclusive, primitives, perturb_std, seed: of the blocks.
        stem_channels: stem width.
        out_indices: stages returned.
        task_outputs: return dict task -> tuple of ``cat(shared, exclusive_t)`` per stage
            (width ``widths[i]``) instead of ``cat(shared, exclusive_0, ..., exclusive_T-1)``
            (width ``s_i + T * (widths[i] - s_i)``, ``s_i = int(gamma * widths[i])``).
        norm_cfg, act_cfg: of the stem and the blocks.

    Forward: [B, 3, H, W] -> tuple of [B, out_channels[i], H / 2^(i+2), W / 2^(i+2)] or
    (``task_outputs``) dict task -> such a tuple.
    """

    def __init__(self, tasks: Sequence[str], widths: Sequence[int] = (64, 128, 256),
                 depths: Sequence[int] = (2, 2, 2), gamma: float = 0.5, exclusive: str = 'conv',
                 primitives: Sequence[str] = ('dw3x3', 'dilated_dw3x3', 'perturb', 'shift'),
                 perturb_std: float = 0.5, seed: int = 0, stem_channels: int = 32,
                 out_indices: Sequence[int] = (0, 1, 2), task_outputs: bool = False,
                 norm_cfg: dict = dict(type='BN'), act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if not tasks:
            raise ValueError('ETRNLPNet needs at least one task')
        if len(widths) != len(depths) or min(depths) < 1:
            raise ValueError(f'ETRNLPNet widths {tuple(widths)} and depths {tuple(depths)} '
                             'need one entry (depth >= 1) per stage')
        if any(not 0 <= i < len(depths) for i in out_indices):
            raise ValueError(f'ETRNLPNet out_indices {tuple(out_indices)} out of range')
        self.tasks = tuple(tasks)
        self.out_indices = tuple(out_indices)
        self.task_outputs = task_outputs
        self.stem = nn.Sequential(
            ConvModule(3, stem_channels, 3, stride=2, padding=1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg),
            ConvModule(stem_channels, stem_channels, 3, stride=2, padding=1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg))
        self.stages = nn.ModuleList()
        in_channels, in_shared, k = stem_channels, None, 0
        for width, depth in zip(widths, depths):
            stage = nn.ModuleList()
            for _ in range(depth):
                block = ETRBlock(in_channels, width, self.tasks, gamma, in_shared, exclusive,
                                 primitives, seed + 2 * k, perturb_std, norm_cfg, act_cfg)
                stage.append(block)
                in_channels, in_shared, k = width, block.shared_channels, k + 1
            self.stages.append(stage)

    @property
    def out_channels(self) -> Tuple[int, ...]:
        """Channels of each returned level (per task in ``task_outputs`` mode)."""
        chans = []
        for i in self.out_indices:
            last = self.stages[i][-1]
            chans.append(last.out_channels if self.task_outputs else
                         last.shared_channels + len(self.tasks) * last.exclusive_channels)
        return tuple(chans)

    def _merge(self, feats: Dict[str, Tensor], shared_channels: int) -> Tensor:
        """``cat(shared, exclusive_0, ..., exclusive_T-1)`` of per-task maps."""
        first = feats[self.tasks[0]]
        return torch.cat([first[:, :shared_channels]] +
                         [feats[t][:, shared_channels:] for t in self.tasks], dim=1)

    def forward(self, x: Tensor) -> Union[Tuple[Tensor, ...], Dict[str, Tuple[Tensor, ...]]]:
        feats: Union[Tensor, Dict[str, Tensor]] = self.stem(x)
        outs = []
        for i, stage in enumerate(self.stages):
            if i:
                feats = {t: F.avg_pool2d(f, 2, ceil_mode=True) for t, f in feats.items()}
            for block in stage:
                feats = block(feats)
            if i in self.out_indices:
                outs.append((feats, stage[-1].shared_channels))
        if self.task_outputs:
            return {t: tuple(f[t] for f, _ in outs) for t in self.tasks}
        return tuple(self._merge(f, s) for f, s in outs)
