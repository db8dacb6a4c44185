"""Structural-similarity loss (enhancement task)."""
from torch import Tensor, nn

from mtlunder.registry import MODELS


@MODELS.register_module()
class SSIMLoss(nn.Module):
    """``loss_weight * (1 - mean SSIM)`` via :func:`kornia.metrics.ssim`.

    Gaussian window ``window_size`` with sigma 1.5, K1 = 0.01, K2 = 0.03 (kornia's
    constants); the SSIM map is averaged over channels and pixels. ``padding='same'``
    (reflect-padded borders) keeps the loss defined for images smaller than the window.

    Args:
        window_size: Gaussian window side (odd).
        max_val: dynamic range of the images (1.0 for [0, 1]).
        loss_weight: scale of the loss.
        loss_name: key of the loss in the head's loss dict.

    Shapes: pred, target [N, C, H, W] -> scalar.
    """

    def __init__(self, window_size: int = 11, max_val: float = 1.0, loss_weight: float = 1.0,
                 loss_name: str = 'loss_ssim'):
        super().__init__()
        self.window_size = window_size
        self.max_val = max_val
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        from kornia.metrics import ssim

        ssim_map = ssim(pred, target, self.window_size, max_val=self.max_val, padding='same')
        return self.loss_weight * (1 - ssim_map.mean())
