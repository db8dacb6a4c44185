"""Saliency head: foreground probability per pixel, binary cross-entropy."""
from typing import Dict, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from mtlunder.registry import MODELS
from .edge_head import hed_weights
from .pixel_head import BasePixelHead


@MODELS.register_module()
class SaliencyHead(BasePixelHead):
    """Saliency logits [B, 1, H', W'] (task ``sal``), from an mmseg decode head
    (``decode_head``, e.g. DeepLab-v3's ``mmseg.ASPPHead``; ``num_classes`` is set to 1) or
    the default light decoder of :class:`BasePixelHead`.

    Call graph (:class:`BaseTaskHead`'s template)::

        loss -> forward -> loss_by_feat: logits upsampled (bilinear) to the padded input
                size, BCE over the labelled pixels of each sample's valid region
        predict -> forward -> predict_by_feat: sigmoid at the padded input size
                -> crop, resize to ori_shape -> to_prediction: clamp to [0, 1]

    Loss ``loss_sal``: binary cross-entropy with logits over the labelled pixels of the
    batch (label 0 = background, 1 = salient; the table's ignore value 255 is left out),
    summed and divided by the number of labelled pixels (each pixel weighs the same). With
    ``class_balanced`` the pixels carry HED weights (:func:`hed_weights`: a salient pixel
    weighs the fraction of background pixels of the batch, a background pixel the
    fraction of salient ones), the balanced BCE of MTI-Net's saliency loss. No loss when no
    pixel is labelled. ``pred_sal``: float [1, H, W] foreground probability in [0, 1] at
    the original size.

    Args:
        class_balanced: HED class-balancing weights. Defaults to False (plain BCE).
        **kwargs: the arguments of :class:`BasePixelHead` (``decode_head``, ``in_channels``,
            ``channels``, ...).
    """

    task = 'sal'
    out_channels = 1

    def __init__(self, class_balanced: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.class_balanced = class_balanced

    def predict_by_feat(self, output: Tensor, inputs) -> Tensor:
        return super().predict_by_feat(output, inputs).sigmoid()

    def to_prediction(self, pred_map: Tensor) -> Tensor:
        return pred_map.clamp(0, 1)

    def loss_by_feat(self, output: Tensor, inputs, batch_data_samples: Sequence
                     ) -> Dict[str, Tensor]:
        pred = self.upsample(output, inputs, batch_data_samples)
        logits, labels = [], []
        for p, gt in self.valid_pairs(pred, batch_data_samples):
            valid = gt != self.spec.ignore_value
            logits.append(p[valid])
            labels.append(gt[valid].float())
        logits, labels = torch.cat(logits), torch.cat(labels)
        if not labels.numel():
            return {}
        weight = hed_weights(labels) if self.class_balanced else None
        loss = F.binary_cross_entropy_with_logits(logits, labels, weight=weight,
                                                  reduction='sum')
        return {'loss_sal': loss / labels.numel()}
