"""Per-pixel reconstruction losses on images (enhancement task)."""
from torch import Tensor, nn

from mtlunder.registry import MODELS


@MODELS.register_module()
class ImageL1Loss(nn.Module):
    """Mean absolute error ``loss_weight * mean(|pred - target|)``.

    Args:
        loss_weight: scale of the loss.
        loss_name: key of the loss in the head's loss dict.

    Shapes: pred, target [N, C, H, W] (any equal shapes) -> scalar.
    """

    def __init__(self, loss_weight: float = 1.0, loss_name: str = 'loss_l1'):
        super().__init__()
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        return self.loss_weight * (pred - target).abs().mean()


@MODELS.register_module()
class CharbonnierLoss(ImageL1Loss):
    """Charbonnier (smooth L1) loss ``loss_weight * mean(sqrt((pred - target)^2 + eps^2))``.

    Args:
        eps: smoothing constant, in the images' units (1e-3 for [0, 1] images).
        loss_weight: scale of the loss.
        loss_name: key of the loss in the head's loss dict.
    """

    def __init__(self, eps: float = 1e-3, loss_weight: float = 1.0,
                 loss_name: str = 'loss_charbonnier'):
        super().__init__(loss_weight, loss_name)
        self.eps = eps

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        return self.loss_weight * ((pred - target).square() + self.eps**2).sqrt().mean()
