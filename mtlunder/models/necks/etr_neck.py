"""ETR-NLP neck: FPN laterals and top-down fusion, then explicit-task-routing blocks per level.

Reconstruction (no official code exists; see :mod:`mtlunder.models.layers.etr_nlp`): the
FPN output 3x3 convs are replaced by ``num_blocks`` :class:`ETRBlock` per level, whose shared
branch is a fixed-primitive NLP layer and whose exclusive branches belong to one task each.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch.nn.functional as F
from torch import Tensor, nn

from mtlunder.models.layers.etr_nlp import ETRBlock
from mtlunder.registry import MODELS
from mtlunder.structures import tasks_of_kind
from .base_multitask_neck import BaseMultiTaskNeck


@MODELS.register_module()
class ETRNeck(BaseMultiTaskNeck):
    """Multi-task neck with explicit task routing and non-learnable primitives.

    Args:
        in_channels: channels of each backbone level (finest first).
        tasks: task names; the output dict has one entry per task.
        out_channels: width of every output level of every task.
        num_outs: number of output levels of the tasks in ``extra_levels_tasks`` (like mmdet
            FPN: levels beyond the backbone's are added with stride 2); the other tasks get
            the backbone levels only.
        start_level, end_level: backbone levels used (as in mmdet FPN; end_level exclusive,
            -1 = last).
        num_blocks: ETR blocks per level.
        gamma: sharing ratio of every block.
        exclusive: exclusive branch type, ``'conv'`` (3x3) or ``'nlp'`` (per-task
            recombination of fixed primitives).
        primitives, seed, perturb_std: fixed primitives; block b of level l uses seed
            ``seed + 2 * (l * num_blocks + b)``.
        top_down: FPN top-down fusion of the laterals.
        add_extra_convs: False (max-pool), ``'on_input'`` (stride-2 3x3 conv on the last used
            backbone level) or ``'on_output'`` (on the task's last output), as in mmdet FPN.
        relu_before_extra_convs: ReLU before every extra conv after the first.
        extra_levels_tasks: tasks that get the extra levels.
        norm_cfg, act_cfg: of the ETR blocks.
        upsample_cfg: of the top-down interpolation.

    Forward: tuple of [B, in_channels[i], H_i, W_i] -> dict task -> tuple of
    [B, out_channels, H_l, W_l], finest first.
    """

    def __init__(self, in_channels: Sequence[int], tasks: Sequence[str], out_channels: int = 256,
                 num_outs: int = 5, start_level: int = 0, end_level: int = -1,
                 num_blocks: int = 1, gamma: float = 0.5, exclusive: str = 'conv',
                 primitives: Sequence[str] = ('dw3x3', 'dilated_dw3x3', 'perturb', 'shift'),
                 seed: int = 0, perturb_std: float = 0.5, top_down: bool = True,
                 add_extra_convs: Union[bool, str] = False,
                 relu_before_extra_convs: bool = False,
                 extra_levels_tasks: Sequence[str] = tasks_of_kind('boxes'),
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 upsample_cfg: dict = dict(mode='nearest'),
                 init_cfg: Optional[dict] = dict(type='Xavier', layer='Conv2d',
                                                 distribution='uniform')):
        super().__init__(tasks, init_cfg=init_cfg)
        if num_blocks < 1:
            raise ValueError(f'ETRNeck num_blocks must be >= 1, got {num_blocks}')
        if add_extra_convs is True:
            add_extra_convs = 'on_input'
        if add_extra_convs not in (False, 'on_input', 'on_output'):
            raise ValueError("ETRNeck add_extra_convs must be False, True, 'on_input' or "
                             f"'on_output', got {add_extra_convs!r}")
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        self.num_ins = len(self.in_channels)
        self.backbone_end_level = self.num_ins if end_level == -1 else end_level
        if not 0 <= start_level < self.backbone_end_level <= self.num_ins:
            raise ValueError(f'ETRNeck levels [{start_level}, {end_level}) do not fit '
                             f'{self.num_ins} inputs')
        self.start_level = start_level
        self.num_levels = self.backbone_end_level - start_level
        if num_outs < self.num_levels:
            raise ValueError(f'ETRNeck num_outs={num_outs} < {self.num_levels} backbone levels')
        self.num_outs = num_outs
        self.top_down = top_down
        self.add_extra_convs = add_extra_convs
        self.relu_before_extra_convs = relu_before_extra_convs
        self.extra_levels_tasks = tuple(t for t in self.tasks if t in extra_levels_tasks)
        self.upsample_cfg = dict(upsample_cfg)

        self.lateral_convs = nn.ModuleList(
            nn.Conv2d(c, out_channels, 1)
            for c in self.in_channels[start_level:self.backbone_end_level])
        self.blocks = nn.ModuleList()
        for level in range(self.num_levels):
            stack, in_shared = nn.ModuleList(), None
            for b in range(num_blocks):
                block = ETRBlock(out_channels, out_channels, self.tasks, gamma, in_shared,
                                 exclusive, primitives, seed + 2 * (level * num_blocks + b),
                                 perturb_std, norm_cfg, act_cfg)
                stack.append(block)
                in_shared = block.shared_channels
            self.blocks.append(stack)
        num_extra = num_outs - self.num_levels
        self.extra_convs = nn.ModuleDict()
        if add_extra_convs and num_extra:
            for t in self.extra_levels_tasks:
                first_in = self.in_channels[self.backbone_end_level - 1] \
                    if add_extra_convs == 'on_input' else out_channels
                self.extra_convs[t] = nn.ModuleList(
                    nn.Conv2d(first_in if i == 0 else out_channels, out_channels, 3, stride=2,
                              padding=1) for i in range(num_extra))

    def task_parameters(self, task: str) -> List[nn.Parameter]:
        """Parameters only ``task``'s loss reaches: its exclusive branches and extra convs.

        With ``exclusive='nlp'`` the fixed primitives are buffers, so only the per-task
        recombinations are listed.
        """
        self.check_task(task)
        params = [p for stack in self.blocks for block in stack
                  if block.task_branches is not None
                  for p in block.task_branches[task].parameters()]
        if task in self.extra_convs:
            params += list(self.extra_convs[task].parameters())
        return params

    def _extra_levels(self, task: str, outs: List[Tensor], last_input: Tensor) -> None:
        """Append ``num_outs - num_levels`` stride-2 levels to ``outs`` (in place)."""
        for i in range(self.num_outs - self.num_levels):
            if not self.add_extra_convs:
                outs.append(F.max_pool2d(outs[-1], 1, stride=2))
                continue
            if i == 0:
                src = last_input if self.add_extra_convs == 'on_input' else outs[-1]
            else:
                src = F.relu(outs[-1]) if self.relu_before_extra_convs else outs[-1]
            outs.append(self.extra_convs[task][i](src))

    def forward(self, inputs: Sequence[Tensor]) -> Dict[str, Tuple[Tensor, ...]]:
        if len(inputs) != self.num_ins:
            raise ValueError(f'ETRNeck expects {self.num_ins} input levels, got {len(inputs)}')
        laterals = [conv(inputs[i + self.start_level])
                    for i, conv in enumerate(self.lateral_convs)]
        if self.top_down:
            for i in range(self.num_levels - 1, 0, -1):
                laterals[i - 1] = laterals[i - 1] + F.interpolate(
                    laterals[i], size=laterals[i - 1].shape[2:], **self.upsample_cfg)
        per_task: Dict[str, List[Tensor]] = {t: [] for t in self.tasks}
        for lateral, stack in zip(laterals, self.blocks):
            feats = lateral
            for block in stack:
                feats = block(feats)
            for t in self.tasks:
                per_task[t].append(feats[t])
        for t in self.extra_levels_tasks:
            self._extra_levels(t, per_task[t], inputs[self.backbone_end_level - 1])
        return {t: tuple(outs) for t, outs in per_task.items()}
