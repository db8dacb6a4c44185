"""Surface-normal head: unit vectors per pixel."""
from typing import Dict, Sequence

import torch.nn.functional as F
from torch import Tensor

from mtlunder.registry import MODELS
from .pixel_head import BasePixelHead


@MODELS.register_module()
class NormalHead(BasePixelHead):
    """Unit surface normals [B, 3, H, W] (task ``normal``): the raw output is normalised
    to unit length per pixel.

    Loss ``loss_normal``: L1 distance between the unit prediction and the unit label,
    summed over x, y, z and averaged over the valid pixels of the batch (label norm > 0.5;
    the zero vector marks an invalid pixel). No loss when no pixel is valid.
    ``pred_normal``: [3, H, W] unit vectors at the original size.
    """

    task = 'normal'
    out_channels = 3

    def predict_by_feat(self, output: Tensor, inputs) -> Tensor:
        return F.normalize(super().predict_by_feat(output, inputs), dim=1)

    def to_prediction(self, pred_map: Tensor) -> Tensor:
        return F.normalize(pred_map, dim=0)

    def loss_by_feat(self, output: Tensor, inputs, batch_data_samples: Sequence
                     ) -> Dict[str, Tensor]:
        pred = F.normalize(self.upsample(output, inputs, batch_data_samples), dim=1)
        total, count = pred.new_zeros(()), 0
        for p, gt in self.valid_pairs(pred, batch_data_samples):
            valid = gt.norm(dim=0) > 0.5
            total = total + (p[:, valid] - gt[:, valid]).abs().sum()
            count += int(valid.sum())
        return {'loss_normal': total / count} if count else {}
