from .pixel_losses import CharbonnierLoss, ImageL1Loss
from .ssim_loss import SSIMLoss

__all__ = ['CharbonnierLoss', 'ImageL1Loss', 'SSIMLoss']
