"""Structural-similarity loss (enhancement task)."""
from torch import Tensor, nn

from mtlunder.registry import MODELS


@MODELS.register_module()
class SSIMLoss(nn.Module):
    """``loss_weight * (1 - mean SSIM)`` via :func:`kornia.metrics.ssim`.

    Gaussian window ``window_size`` with sigma 1.5, K1 = 0.01, K2 = 0.03 (kornia's
    constants); the SSIM map is averaged over channels and pixels. ``padding='same'``
    (reflect-padded borders) keeps the loss defined for images smaller than the window.
    ``downsample > 1`` first average-pools both images by that factor: SSIM at a coarser
    scale (one scale of MS-SSIM), ``downsample**2`` times cheaper, while the pixel loss keeps
    the full resolution.

    Args:
        window_size: Gaussian window side (odd).
        max_val: dynamic range of the images (1.0 for [0, 1]).
        loss_weight: scale of the loss.
        loss_name: key of the loss in the head's loss dict.
        downsample: average-pooling factor applied to both images first (1: none).

    Shapes: pred, target [N, C, H, W] -> scalar.
    """

    def __init__(self, window_size: int = 11, max_val: float = 1.0, loss_weight: float = 1.0,
                 loss_name: str = 'loss_ssim', downsample: int = 1):
        super().__init__()
        if downsample < 1:
            raise ValueError(f'downsample must be >= 1, got {downsample}')
        self.downsample = downsample
        self.window_size = window_size
        self.max_val = max_val
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        import torch.nn.functional as F
        from kornia.metrics import ssim

        if self.downsample > 1:
            pred = F.avg_pool2d(pred, self.downsample, ceil_mode=True)
            target = F.avg_pool2d(target, self.downsample, ceil_mode=True)
        ssim_map = ssim(pred, target, self.window_size, max_val=self.max_val, padding='same')
        return self.loss_weight * (1 - ssim_map.mean())
