"""A light per-pixel decoder shared by the depth, normal and edge heads."""
from typing import Optional, Sequence

from mmcv.cnn import ConvModule
from mmengine.model import ModuleList
from torch import Tensor, nn

from mtlunder.registry import MODELS
from .base_task_head import BaseTaskHead, fuse_levels


class BasePixelHead(BaseTaskHead):
    """Pyramid levels -> per-pixel output of :attr:`out_channels` channels.

    Default decoder: each level goes through a 1x1 conv to ``channels``, is upsampled
    (bilinear) to the finest level and summed; a 3x3 conv and a 1x1 conv to
    :attr:`out_channels` follow. With ``decode_head`` (an mmseg decode head config, e.g.
    DeepLab-v3's ``mmseg.ASPPHead``, as the SquadNet paper uses for every task) that head
    decodes instead, with ``num_classes = out_channels``.
    ``forward``: levels [B, in_channels[i], H_i, W_i] (finest first) -> [B, C, H', W'].

    Args:
        in_channels: channels of each level used (finest first); unused with
            ``decode_head``.
        channels: decoder width.
        norm_cfg, act_cfg: of the decoder convs.
        decode_head: optional mmseg decode head config replacing the default decoder.
        task: the task name, for heads that serve several tasks.
    """

    #: channels of the raw output
    out_channels: int = 1

    def __init__(self, in_channels: Sequence[int] = (), channels: int = 64,
                 norm_cfg: dict = dict(type='BN'), act_cfg: dict = dict(type='ReLU'),
                 decode_head: Optional[dict] = None, task=None, init_cfg=None):
        super().__init__(task=task, init_cfg=init_cfg)
        if decode_head is not None:
            self.decode_head = MODELS.build(dict(decode_head, num_classes=self.out_channels))
            return
        if not in_channels:
            raise ValueError(f'{type(self).__name__} needs in_channels or a decode_head')
        self.decode_head = None
        self.lateral_convs = ModuleList(
            ConvModule(c, channels, 1, norm_cfg=norm_cfg, act_cfg=None) for c in in_channels)
        self.fuse_conv = ConvModule(channels, channels, 3, padding=1, norm_cfg=norm_cfg,
                                    act_cfg=act_cfg)
        self.conv_out = nn.Conv2d(channels, self.out_channels, 1)

    def forward(self, feats: Sequence[Tensor], inputs=None) -> Tensor:
        if self.decode_head is not None:
            return self.decode_head(list(feats))
        x = fuse_levels(self.lateral_convs, feats, type(self).__name__)
        return self.conv_out(self.fuse_conv(x))
