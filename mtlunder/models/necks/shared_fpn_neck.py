"""Hard parameter sharing baseline: one mmdet FPN shared by every task."""
from typing import Dict, Optional, Sequence, Tuple

from torch import Tensor

from mtlunder.registry import MODELS
from .base_multitask_neck import BaseMultiTaskNeck


@MODELS.register_module()
class SharedFPNNeck(BaseMultiTaskNeck):
    """One :class:`mmdet.models.necks.FPN`; every task gets the same tuple of levels.

    Args:
        in_channels: channels of each backbone level (finest first).
        tasks: task names; the output dict has one entry per task.
        out_channels: FPN width.
        num_outs: FPN output levels.
        **fpn_kwargs: any other mmdet ``FPN`` argument (``start_level``, ``add_extra_convs``,
            ``norm_cfg``, ...).

    Forward: tuple of [B, in_channels[i], H_i, W_i] -> dict task -> tuple of ``num_outs``
    tensors [B, out_channels, H_l, W_l] (the same objects for every task).
    """

    def __init__(self, in_channels: Sequence[int], tasks: Sequence[str], out_channels: int = 256,
                 num_outs: int = 5, init_cfg: Optional[dict] = None, **fpn_kwargs):
        from mmdet.models.necks import FPN

        super().__init__(tasks, init_cfg=init_cfg)
        self.fpn = FPN(list(in_channels), out_channels, num_outs, **fpn_kwargs)

    def forward(self, inputs: Sequence[Tensor]) -> Dict[str, Tuple[Tensor, ...]]:
        if len(inputs) != len(self.fpn.in_channels):
            raise ValueError(f'SharedFPNNeck expects {len(self.fpn.in_channels)} input levels, '
                             f'got {len(inputs)}')
        outs = tuple(self.fpn(tuple(inputs)))
        return {t: outs for t in self.tasks}
