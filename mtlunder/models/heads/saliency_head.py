"""Saliency head: foreground probability per pixel, binary cross-entropy."""
from mtlunder.registry import MODELS
from .binary_map_head import BinaryMapHead


@MODELS.register_module()
class SaliencyHead(BinaryMapHead):
    """Saliency logits [B, 1, H', W'] (task ``sal``), from an mmseg decode head
    (``decode_head``, e.g. DeepLab-v3's ``mmseg.ASPPHead``; ``num_classes`` is set to 1) or
    the default light decoder of :class:`BasePixelHead`.

    The call graph is :class:`BinaryMapHead`'s.

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
    class_balanced = False
