"""Monocular depth head: metres per pixel, L1 on the measured pixels."""
from typing import Dict, Sequence

from torch import Tensor

from mtlunder.registry import MODELS
from .pixel_head import BasePixelHead


@MODELS.register_module()
class DepthHead(BasePixelHead):
    """Depth in metres [B, 1, H, W] (task ``depth``).

    Loss ``loss_depth``: mean absolute error in metres over the pixels with a measurement
    (``gt_depth > 0``; 0 is the table's ignore value) inside each sample's valid region,
    pooled over the batch (every valid pixel weighs the same). No loss when no pixel of the
    batch has a measurement. ``pred_depth``: [1, H, W] metres at the original size.
    """

    task = 'depth'
    out_channels = 1

    def loss_by_feat(self, output: Tensor, inputs, batch_data_samples: Sequence
                     ) -> Dict[str, Tensor]:
        pred = self.upsample(output, inputs, batch_data_samples)
        total, count = pred.new_zeros(()), 0
        for p, gt in self.valid_pairs(pred, batch_data_samples):
            valid = gt > self.spec.ignore_value
            total = total + (p[valid] - gt[valid]).abs().sum()
            count += int(valid.sum())
        return {'loss_depth': total / count} if count else {}
