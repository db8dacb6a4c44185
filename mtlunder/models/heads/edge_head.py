"""Edge head: edge probability per pixel, class-balanced BCE."""
from typing import Dict, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from mtlunder.registry import MODELS
from .pixel_head import BasePixelHead


@MODELS.register_module()
class EdgeHead(BasePixelHead):
    """Edge logits [B, 1, H, W] (task ``edge``).

    Loss ``loss_edge``: class-balanced binary cross-entropy (HED, Xie and Tu 2015) over the
    labelled pixels of the batch (label 0 or 1; 255 is ignore): with ``beta`` the fraction
    of non-edge pixels, edge pixels weigh ``beta`` and non-edge pixels ``1 - beta``; the
    weighted sum is divided by the number of labelled pixels. No loss when none is labelled.
    ``pred_edge``: [1, H, W] edge probability in [0, 1] at the original size.
    """

    task = 'edge'
    out_channels = 1

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
        loss = F.binary_cross_entropy_with_logits(logits, labels, weight=hed_weights(labels),
                                                  reduction='sum')
        return {'loss_edge': loss / labels.numel()}


def hed_weights(labels: Tensor) -> Tensor:
    """HED class-balancing weights of binary labels [N] (0. / 1.): with ``beta`` the fraction
    of 0s, a 1 weighs ``beta`` and a 0 weighs ``1 - beta``."""
    beta = 1 - labels.mean()
    return torch.where(labels > 0.5, beta, 1 - beta)
