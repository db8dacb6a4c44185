"""Semantic segmentation (and other class-map tasks) through an mmseg decode head."""
from typing import Dict, Sequence

import torch.nn.functional as F
from torch import Tensor

from mtlunder.registry import MODELS
from .base_task_head import BaseTaskHead


@MODELS.register_module()
class SegHead(BaseTaskHead):
    """Class logits from an MMSegmentation decode head (task ``seg`` by default; ``parts``
    and ``sal`` take ``task=``).

    ``decode_head`` is any mmseg decode head config, e.g. DeepLab-v3's
    ``dict(type='mmseg.ASPPHead', in_channels=..., channels=256, dilations=(1, 12, 24, 36),
    num_classes=40, in_index=-1)``; only its ``forward`` is used (logits at the feature
    resolution), so its ``loss_decode`` does not matter.

    Loss ``loss_ce``: cross-entropy of the logits upsampled (bilinear) to the label size,
    over the labelled pixels of the batch (255 = ignore), each pixel weighing the same. No
    loss when no pixel is labelled. ``pred_<field>``: long [1, H, W] class map at the
    original size (argmax of the logits resized there, as mmseg does).

    Args:
        decode_head: the mmseg decode head config.
        task: the class-map task this head serves.
    """

    task = 'seg'

    def __init__(self, decode_head: dict, task=None, init_cfg=None):
        super().__init__(task=task, init_cfg=init_cfg)
        self.decode_head = MODELS.build(decode_head)

    def forward(self, feats: Sequence[Tensor], inputs=None) -> Tensor:
        return self.decode_head(list(feats))

    def to_prediction(self, pred_map: Tensor) -> Tensor:
        return pred_map.argmax(dim=0, keepdim=True)

    def loss_by_feat(self, output: Tensor, inputs, batch_data_samples: Sequence
                     ) -> Dict[str, Tensor]:
        pred = self.upsample(output, inputs, batch_data_samples)
        ignore = int(self.spec.ignore_value)
        total, count = pred.new_zeros(()), 0
        for p, gt in self.valid_pairs(pred, batch_data_samples):
            label = gt.long().reshape(1, *gt.shape[-2:])
            total = total + F.cross_entropy(p[None], label, ignore_index=ignore,
                                            reduction='sum')
            count += int((label != ignore).sum())
        return {'loss_ce': total / count} if count else {}


