"""Human-parts head: part-class logits through an mmseg decode head."""
from mtlunder.registry import MODELS
from .seg_head import SegHead


@MODELS.register_module()
class PartsHead(SegHead):
    """Human part segmentation (task ``parts``): :class:`SegHead` with the parts classes,
    7 by default (0 = background, 1..6 = head, torso, upper arm, lower arm, upper leg,
    lower leg; ``PARTS_CLASSES`` of the PASCAL-Context converter).

    Call graph (:class:`SegHead`'s)::

        loss(feats, inputs, samples) -> only the samples with gt_parts (the images
            labelled for parts: PASCAL-Context images with at least one human part)
            -> forward: decode_head -> logits [B, num_classes, H', W']
            -> loss_by_feat: cross-entropy over their labelled pixels (255 ignored),
               background pixels included
        predict -> argmax of the logits at the original size -> pred_parts long [1, H, W]

    Loss key ``loss_ce``. ``decode_head`` gets ``num_classes`` = :attr:`num_classes` when
    the config leaves it out.

    Args:
        decode_head: the mmseg decode head config.
    """

    task = 'parts'
    #: background + 6 human parts
    num_classes = 7

    def __init__(self, decode_head: dict, init_cfg=None):
        super().__init__(decode_head=dict(dict(num_classes=self.num_classes), **decode_head),
                         init_cfg=init_cfg)
