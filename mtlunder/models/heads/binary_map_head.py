"""Base of the heads of binary per-pixel maps (edges, saliency): one logit per pixel, BCE."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .pixel_head import BasePixelHead


class BinaryMapHead(BasePixelHead):
    """Logits [B, 1, H', W'] of a binary map task (label 0 / 1, the table's ignore value 255
    left out); subclasses set :attr:`task` and :attr:`class_balanced`.

    Call graph (:class:`BaseTaskHead`'s template)::

        loss -> forward -> loss_by_feat: logits upsampled (bilinear) to the padded input
                size, BCE over the labelled pixels of each sample's valid region
        predict -> forward -> predict_by_feat: sigmoid at the padded input size
                -> crop, resize to ori_shape -> to_prediction: clamp to [0, 1]

    Loss ``loss_<task>``: binary cross-entropy with logits over the labelled pixels of the
    batch, summed and divided by their number; with ``class_balanced`` each pixel carries
    its HED weight (:func:`hed_weights`). No loss when no pixel is labelled.
    ``pred_<task>``: float [1, H, W] probability in [0, 1] at the original size.

    Args:
        class_balanced: HED class-balancing weights (default: the class attribute).
        **kwargs: the arguments of :class:`BasePixelHead`.
    """

    out_channels = 1
    #: default of ``class_balanced``
    class_balanced: bool = False

    def __init__(self, class_balanced: Optional[bool] = None, **kwargs):
        super().__init__(**kwargs)
        if class_balanced is not None:
            self.class_balanced = bool(class_balanced)

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
        return {f'loss_{self.task}': loss / labels.numel()}


def hed_weights(labels: Tensor) -> Tensor:
    """HED class-balancing weights (Xie and Tu 2015) of binary labels [N] (0. / 1.): with
    ``beta`` the fraction of 0s, a 1 weighs ``beta`` and a 0 weighs ``1 - beta``."""
    beta = 1 - labels.mean()
    return torch.where(labels > 0.5, beta, 1 - beta)
