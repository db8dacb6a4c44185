"""No-sharing baseline: one mmdet FPN per task on the shared backbone."""
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.model import ModuleDict
from torch import Tensor, nn

from mtlunder.registry import MODELS
from mtlunder.structures import tasks_of_kind
from .base_multitask_neck import BaseMultiTaskNeck


@MODELS.register_module()
class PerTaskFPNNeck(BaseMultiTaskNeck):
    """One :class:`mmdet.models.necks.FPN` per task.

    Args:
        in_channels: channels of each backbone level (finest first).
        tasks: task names; one FPN each.
        out_channels: FPN width.
        num_outs: output levels of the tasks in ``extra_levels_tasks``; the other tasks' FPNs
            output the used backbone levels only (no extra stride-2 levels).
        extra_levels_tasks: tasks whose FPN has ``num_outs`` levels.
        **fpn_kwargs: any other mmdet ``FPN`` argument, the same for every task.

    Forward: tuple of [B, in_channels[i], H_i, W_i] -> dict task -> tuple of
    [B, out_channels, H_l, W_l], finest first.
    """

    def __init__(self, in_channels: Sequence[int], tasks: Sequence[str], out_channels: int = 256,
                 num_outs: int = 5, extra_levels_tasks: Sequence[str] = tasks_of_kind('boxes'),
                 init_cfg: Optional[dict] = None, **fpn_kwargs):
        from mmdet.models.necks import FPN

        super().__init__(tasks, init_cfg=init_cfg)
        in_channels = list(in_channels)
        end_level = fpn_kwargs.get('end_level', -1)
        num_levels = (len(in_channels) if end_level == -1 else end_level) \
            - fpn_kwargs.get('start_level', 0)
        # mmengine's ModuleDict passes init_weights on to each FPN (Xavier init_cfg)
        self.fpns = ModuleDict({
            t: FPN(in_channels, out_channels, num_outs if t in extra_levels_tasks else num_levels,
                   **fpn_kwargs) for t in self.tasks})

    def task_parameters(self, task: str) -> List[nn.Parameter]:
        """Parameters only ``task``'s loss reaches: its FPN."""
        self.check_task(task)
        return list(self.fpns[task].parameters())

    def forward(self, inputs: Sequence[Tensor]) -> Dict[str, Tuple[Tensor, ...]]:
        num_ins = len(self.fpns[self.tasks[0]].in_channels)
        if len(inputs) != num_ins:
            raise ValueError(f'PerTaskFPNNeck expects {num_ins} input levels, got {len(inputs)}')
        inputs = tuple(inputs)
        return {t: tuple(fpn(inputs)) for t, fpn in self.fpns.items()}
