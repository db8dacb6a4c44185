"""Edge head: edge probability per pixel, class-balanced BCE."""
from mtlunder.registry import MODELS
from .binary_map_head import BinaryMapHead


@MODELS.register_module()
class EdgeHead(BinaryMapHead):
    """Edge logits [B, 1, H, W] (task ``edge``), a :class:`BinaryMapHead`.

    Loss ``loss_edge``: class-balanced binary cross-entropy (HED, Xie and Tu 2015) over the
    labelled pixels of the batch (label 0 or 1; 255 is ignore): with ``beta`` the fraction
    of non-edge pixels, edge pixels weigh ``beta`` and non-edge pixels ``1 - beta``; the
    weighted sum is divided by the number of labelled pixels. No loss when none is labelled.
    ``pred_edge``: [1, H, W] edge probability in [0, 1] at the original size.
    """

    task = 'edge'
    class_balanced = True
