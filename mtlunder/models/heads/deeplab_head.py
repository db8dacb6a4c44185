"""The DeepLab-v3 head of the SquadNet reference code (``head: deeplab``; torchvision's
``DeepLabHead`` layout), a decode head for :class:`SegHead` and the pixel heads."""
import math
from typing import Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mtlunder.registry import MODELS

#: PyTorch's default initialisation of a conv weight (``nn.Conv2d.reset_parameters``:
#: Kaiming-uniform with a = sqrt(5) over fan-in), as an mmengine ``init_cfg``; biases 0.
TORCH_DEFAULT_CONV_INIT = dict(type='Kaiming', layer='Conv2d', a=math.sqrt(5), mode='fan_in',
                               nonlinearity='leaky_relu', distribution='uniform')


@MODELS.register_module()
class DeepLabHead(BaseModule):
    """ASPP -> 1x1 projection -> 3x3 conv -> 1x1 classifier.

    - ASPP (mmseg's ``ASPPModule`` and an image-pool branch, as in ``mmseg.ASPPHead``): a
      1x1 branch, one 3x3 branch per dilation > 1 of ``dilations`` and image pooling
      (global average -> 1x1, upsampled bilinearly), each ``channels`` wide with BN + ReLU;
    - concat in the reference's order (branches by dilation, image pooling last) (``(len(dilations) + 1) * channels``) -> 1x1 to ``channels`` -> BN -> ReLU ->
      Dropout(``dropout_ratio``);
    - 3x3 ``channels`` -> ``channels`` -> BN -> ReLU;
    - 1x1 classifier to ``num_classes`` (with bias).

    With the defaults, 384 input channels and one output this is 3,772,161 parameters.
    ``mmseg.ASPPHead`` differs: a 3x3 1280 -> 256 bottleneck straight after the concat and
    Dropout 0.1 before the classifier (5,803,265 parameters for the same case).

    Default ``init_cfg``: PyTorch's default conv initialisation
    (:data:`TORCH_DEFAULT_CONV_INIT`), as in the reference; BN weight 1, bias 0.

    Forward: levels (list) -> ``levels[in_index]`` [B, in_channels, H, W] -> logits
    [B, num_classes, H, W].

    Args:
        in_channels: channels of the input level.
        num_classes: output channels.
        channels: width of every ASPP branch and of the decoder.
        dilations: ASPP dilations; 1 makes a 1x1 branch.
        dropout_ratio: dropout after the projection (0 = none).
        in_index: which level of the input list is decoded.
        norm_cfg, act_cfg: of every conv but the classifier.
        align_corners: of the image-pool upsampling.
    """

    def __init__(self, in_channels: int, num_classes: int, channels: int = 256,
                 dilations: Sequence[int] = (1, 12, 24, 36), dropout_ratio: float = 0.5,
                 in_index: int = -1, norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'), align_corners: bool = False,
                 init_cfg=TORCH_DEFAULT_CONV_INIT):
        from mmseg.models.decode_heads.aspp_head import ASPPModule

        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.channels = channels
        self.in_index = in_index
        self.align_corners = align_corners
        conv = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.image_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1),
                                        ConvModule(in_channels, channels, 1, **conv))
        self.aspp_modules = ASPPModule(tuple(dilations), in_channels, channels, conv_cfg=None,
                                       **conv)
        # one nn.Sequential (no init_weights of its own), so mmengine's init_weights does not
        # re-run ConvModule's Kaiming-normal init over this head's init_cfg
        self.bottleneck = nn.Sequential(
            ConvModule((len(dilations) + 1) * channels, channels, 1, **conv),
            nn.Dropout(dropout_ratio),
            ConvModule(channels, channels, 3, padding=1, **conv))
        self.conv_seg = nn.Conv2d(channels, num_classes, 1)

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        x = inputs[self.in_index]
        pooled = F.interpolate(self.image_pool(x), size=x.shape[2:], mode='bilinear',
                               align_corners=self.align_corners)
        x = torch.cat(self.aspp_modules(x) + [pooled], dim=1)
        return self.conv_seg(self.bottleneck(x))
