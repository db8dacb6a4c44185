"""Dense multi-task model: backbone -> optional multi-task neck -> one dense head per task."""
from typing import Dict, Optional, Union

from torch import nn

from mtlunder.registry import MODELS
from mtlunder.structures import TASK_SPECS
from ..detectors.multitask_detector import MultiTaskDetector


@MODELS.register_module()
class MultiTaskSegmentor(MultiTaskDetector):
    """The dense multi-task setting (NYUD-v2, PASCAL-Context): every head is a
    :class:`~mtlunder.models.heads.BaseTaskHead` (``SegHead``, ``DepthHead``,
    ``NormalHead``, ``EdgeHead``, ...).

    Call graph: :class:`MultiTaskDetector`'s, without boxes heads::

        extract_shared(inputs) -> backbone levels
        neck_features(levels)  -> {task: levels}  (no neck: every head reads the backbone
                                                   levels; SquadGroupsNeck: cat(group_t,
                                                   shared groups) of a SquadNet)
        head.loss / head.predict per task, on the samples labelled for it

    Any mmdet / mmseg backbone works (``type='mmseg.ResNetV1c'``, ...) besides SquadNet.

    Args:
        backbone: backbone config.
        heads: ``{task: dense head config}``.
        neck: optional multi-task neck config.
        data_preprocessor, init_cfg, balancer: as :class:`MultiTaskDetector`.
    """

    def __init__(self, backbone: dict, heads: Dict[str, dict], neck: Optional[dict] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None, balancer: Optional[dict] = None):
        boxes = sorted(t for t in heads if t in TASK_SPECS and not TASK_SPECS[t].is_dense)
        if boxes:
            raise ValueError(f'MultiTaskSegmentor has dense heads only; {boxes} are boxes '
                             'tasks: use MultiTaskDetector')
        super().__init__(backbone=backbone, neck=neck, heads=heads,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg,
                         balancer=balancer)
