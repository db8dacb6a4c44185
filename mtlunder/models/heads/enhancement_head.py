"""Light image-enhancement head: low-resolution local colour transform + full-res detail."""
from typing import Dict, List, Sequence, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import ModuleList
from torch import Tensor, nn

from mtlunder.models.data_preprocessors import denormalize
from mtlunder.registry import MODELS
from .base_task_head import BaseTaskHead, fuse_levels


@MODELS.register_module()
class EnhancementHead(BaseTaskHead):
    """Predict the restored image as a residual on the (normalised) input.

    The pyramid levels are each projected by a 1x1 conv to ``channels``, upsampled
    (bilinear) to the finest level and summed; a 3x3 conv fuses the sum with the input
    average-pooled to that resolution (global colour cast). A 1x1 conv predicts, per
    low-resolution pixel and channel, a gain ``g``, an offset ``b`` and a detail gain ``s``;
    upsampled bilinearly to the input size they give, at full resolution,
    ``y = x + g * x + b + s * detail(x)``: the per-channel affine inverts the formation model
    ``I = J t + B (1 - t)`` (``t`` and ``B`` vary slowly), and ``detail`` (a learned 3x3
    conv of the input, default init) adds edges or denoising with a strength ``s`` that can
    follow the local transmission. The 1x1 coefficient conv starts near zero (normal, std
    ``init_std``, zero bias), so the output starts close to the input, yet gradients reach
    the shared features from the first step (exact zeros would cut them, which stalls
    gradient-based balancers such as MGDA). Only ``detail``, which needs no input gradient,
    and elementwise ops run at full resolution, so the head is cheap to train.

    Task ``enh`` (:class:`BaseTaskHead`): losses are computed on de-normalised [0, 1] RGB
    images, per sample inside its valid region ``img_shape`` (padding ignored), only for
    samples with ``gt_clean``, and averaged over those samples; ``pred_clean`` is the
    enhanced image, RGB in [0, 1]. Input normalisation (mean/std in 0-255 units, channel order of the
    normalised tensor) comes from :meth:`set_input_norm`, which the detector calls with its
    data preprocessor's settings.

    Args:
        in_channels: channels of each pyramid level used (finest first); the head uses the
            first ``len(in_channels)`` levels it receives.
        channels: width of the low-resolution path.
        loss_pixel: per-pixel loss config (``ImageL1Loss`` or ``CharbonnierLoss``).
        loss_ssim: SSIM loss config (``SSIMLoss``), or None.
        norm_cfg, act_cfg: of the low-resolution convs.
        init_std: std of the coefficient conv's initial weights.
    """

    task = 'enh'
    requires_inputs = True

    def __init__(self, in_channels: Sequence[int], channels: int = 32,
                 loss_pixel: dict = dict(type='ImageL1Loss', loss_weight=1.0),
                 loss_ssim: Union[dict, None] = dict(type='SSIMLoss', loss_weight=1.0),
                 norm_cfg: dict = dict(type='BN'), act_cfg: dict = dict(type='GELU'),
                 init_std: float = 1e-3, init_cfg: Union[dict, None] = None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = list(in_channels)
        self.lateral_convs = ModuleList(
            ConvModule(c, channels, 1, norm_cfg=norm_cfg, act_cfg=None) for c in in_channels)
        self.fuse_conv = ConvModule(channels + 3, channels, 3, padding=1, norm_cfg=norm_cfg,
                                    act_cfg=act_cfg)
        self.coeff_conv = nn.Conv2d(channels, 9, 1)
        self.detail = nn.Conv2d(3, 3, 3, padding=1)
        self.losses = nn.ModuleList(
            MODELS.build(cfg) for cfg in (loss_pixel, loss_ssim) if cfg is not None)
        self.register_buffer('mean', torch.zeros(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', torch.ones(1, 3, 1, 1), persistent=False)
        self.rgb = True
        self.init_std = init_std
        self._init_coeff_conv()

    def _init_coeff_conv(self) -> None:
        nn.init.normal_(self.coeff_conv.weight, std=self.init_std)
        nn.init.zeros_(self.coeff_conv.bias)

    def init_weights(self) -> None:
        super().init_weights()
        self._init_coeff_conv()

    def set_input_norm(self, mean: Sequence[float], std: Sequence[float], rgb: bool) -> None:
        """Normalisation of the inputs: ``x_norm = (x - mean) / std`` in 0-255 units.

        Args:
            mean, std: 3 values each, in the channel order of the normalised tensor.
            rgb: whether that order is RGB (else BGR).
        """
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.std.copy_(torch.as_tensor(std, dtype=torch.float32).view(1, 3, 1, 1))
        self.rgb = rgb

    def to_unit_rgb(self, x: Tensor) -> Tensor:
        """Normalised [B, 3, H, W] -> [0, 1]-scaled RGB (not clamped)."""
        x = denormalize(x, self.mean.flatten(), self.std.flatten(), clamp=False)
        return x if self.rgb else x.flip(1)

    def forward(self, feats: Sequence[Tensor], inputs: Tensor) -> Tensor:
        """feats: levels [B, in_channels[i], H_i, W_i]; inputs: normalised [B, 3, H, W].

        Returns the enhanced image [B, 3, H, W] in the inputs' normalisation.
        """
        x = fuse_levels(self.lateral_convs, feats, type(self).__name__)
        size = x.shape[2:]
        x = self.fuse_conv(torch.cat([x, F.adaptive_avg_pool2d(inputs, size)], dim=1))
        coeffs = F.interpolate(self.coeff_conv(x), size=inputs.shape[2:], mode='bilinear',
                               align_corners=False)
        gain, offset, detail_gain = coeffs.split(3, dim=1)
        # x + gain * x + offset + detail_gain * detail(x), with fewer full-size temporaries
        out = torch.addcmul(offset, gain, inputs).add_(inputs)
        return out.addcmul_(detail_gain, self.detail(inputs))

    def predict_by_feat(self, output: Tensor, inputs: Tensor) -> Tensor:
        """Enhanced images [B, 3, H, W], RGB in [0, 1] (padded size, like ``inputs``)."""
        return self.to_unit_rgb(output).clamp_(0, 1)

    def to_prediction(self, pred_map: Tensor) -> Tensor:
        return pred_map.clamp(0, 1)

    def loss_by_feat(self, output: Tensor, inputs: Tensor,
                     batch_data_samples: Sequence) -> Dict[str, Tensor]:
        """L1 (or Charbonnier) and SSIM of every sample inside its valid region.

        ``gt_clean.data`` is normalised like ``inputs`` and at least the valid region
        ``metainfo['img_shape']`` in size.
        """
        pred = self.to_unit_rgb(output)
        num = len(batch_data_samples)
        rows_of_shape: Dict[tuple, List[int]] = {}  # valid (h, w) -> rows of that size
        targets: List[Tensor] = []
        for row, sample in enumerate(batch_data_samples):
            h, w = sample.metainfo.get('img_shape', inputs.shape[2:])[:2]
            ref = sample.gt_clean.data
            name = sample.metainfo.get('img_path', f'sample {row}')
            if ref.shape[0] != 3 or ref.shape[1] < h or ref.shape[2] < w:
                raise ValueError(f'gt_clean of {name} has shape {tuple(ref.shape)}, expected '
                                 f'[3, >={h}, >={w}] (valid region img_shape)')
            if not torch.isfinite(ref[:, :h, :w]).all():
                raise ValueError(f'gt_clean of {name} contains NaN or inf')
            rows_of_shape.setdefault((h, w), []).append(row)
            targets.append(ref[:, :h, :w])
        # one call per valid size: each loss is a mean over its samples, so a group's loss
        # times its size sums the per-sample losses
        sums: List[Tensor] = [pred.new_zeros(()) for _ in self.losses]
        for (h, w), rows in rows_of_shape.items():
            group_pred = pred[rows, :, :h, :w] if len(rows) < num else pred[:, :, :h, :w]
            target = self.to_unit_rgb(torch.stack([targets[r] for r in rows]).to(pred))
            for k, loss in enumerate(self.losses):
                sums[k] = sums[k] + len(rows) * loss(group_pred, target)
        return {loss.loss_name: s / num for loss, s in zip(self.losses, sums)}
