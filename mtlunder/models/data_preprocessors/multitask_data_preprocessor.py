"""Data preprocessor that normalises and pads the clean reference exactly like the input."""
from numbers import Number
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmengine.model import ImgDataPreprocessor
from mmengine.structures import PixelData
from torch import Tensor, nn

from mtlunder.registry import MODELS


def denormalize(tensor: Tensor, mean: Optional[Union[Sequence[Number], Tensor]],
                std: Optional[Union[Sequence[Number], Tensor]], clamp: bool = True) -> Tensor:
    """Map a normalised image back to [0, 1].

    Args:
        tensor: normalised image(s), [3, H, W] or [N, 3, H, W], ``(x - mean) / std``.
        mean, std: per-channel mean and std in 0-255 units (mmdet's convention), in the
            channel order of ``tensor`` (RGB after ``bgr_to_rgb``); None means the
            tensor was not normalised (still 0-255).
        clamp: clip the result to [0, 1] (clipping stops gradients outside it).

    Returns:
        Tensor of the same shape, ``(tensor * std + mean) / 255``.
    """
    if mean is not None:
        shape = (-1, 1, 1)
        mean = torch.as_tensor(mean, dtype=tensor.dtype, device=tensor.device).view(shape)
        std = torch.as_tensor(std, dtype=tensor.dtype, device=tensor.device).view(shape)
        tensor = tensor * std + mean
    tensor = tensor / 255.
    return tensor.clamp(0., 1.) if clamp else tensor


@MODELS.register_module()
class MultiTaskDataPreprocessor(DetDataPreprocessor):
    """mmdet's ``DetDataPreprocessor`` that also prepares ``gt_clean``.

    After the parent has converted, normalised and padded the inputs (and set
    ``pad_shape`` / ``batch_input_shape`` in every sample's metainfo), each sample's
    ``gt_clean.data`` (float [3, H, W], 0-255, the input's channel order) goes through the
    same steps: BGR->RGB when ``bgr_to_rgb``, ``(x - mean) / std``, and
    bottom/right padding to ``batch_input_shape`` with ``pad_value`` (applied after
    normalisation, like the input). The result is [3, Hpad, Wpad], identical to the
    padded input where the reference equals the input. Samples without a reference keep
    no ``gt_clean``. The valid (unpadded) region of both is ``img_shape``.

    ``batch_augments`` are refused: they resize the inputs but know nothing of
    ``gt_clean``, which would then be misaligned.

    Args:
        **kwargs: the arguments of :class:`mmdet.models.DetDataPreprocessor`.

    What the model needs to know of the inputs is public and read-only:
    :attr:`normalization` and :attr:`channel_conversion`.
    """

    def __init__(self, *args, batch_augments: Optional[list] = None, **kwargs) -> None:
        if batch_augments:
            raise ValueError('MultiTaskDataPreprocessor does not support batch_augments: '
                             'they would move the inputs without the gt_clean references')
        super().__init__(*args, batch_augments=None, **kwargs)

    def forward(self, data: dict, training: bool = False) -> dict:
        input_hws = [tuple(inputs.shape[-2:]) for inputs in data['inputs']]
        data = super().forward(data=data, training=training)
        for sample, input_hw in zip(data['data_samples'] or (), input_hws):
            if 'gt_clean' in sample:
                sample.gt_clean = PixelData(data=self._preprocess_clean(sample, input_hw),
                                            metainfo=sample.gt_clean.metainfo)
        return data

    def _preprocess_clean(self, sample, input_hw: tuple) -> Tensor:
        clean = sample.gt_clean.data
        if clean.dim() != 3 or tuple(clean.shape[-2:]) != input_hw:
            raise ValueError(f'gt_clean of {sample.metainfo.get("img_path")} has shape '
                             f'{tuple(clean.shape)}, expected [C, {input_hw[0]}, '
                             f'{input_hw[1]}] like its input')
        if self.channel_conversion:
            clean = clean[[2, 1, 0], ...]
        clean = clean.float()
        if self.normalization is not None:
            clean = (clean - self.mean) / self.std
        pad_h, pad_w = sample.batch_input_shape
        return F.pad(clean, (0, pad_w - clean.shape[-1], 0, pad_h - clean.shape[-2]),
                     'constant', self.pad_value)

    @property
    def normalization(self) -> Optional[Tuple[Tensor, Tensor]]:
        """(mean, std), each [C] in 0-255 units in the output's channel order (RGB after
        ``bgr_to_rgb``), or None when the inputs are not normalised."""
        return input_normalization(self)[0]

    @property
    def channel_conversion(self) -> bool:
        """Whether the channels are swapped (``bgr_to_rgb`` / ``rgb_to_bgr``): images are
        loaded BGR (mmcv), so True means the model sees RGB."""
        return input_normalization(self)[1]

    def denormalize(self, tensor: Tensor, clamp: bool = True) -> Tensor:
        """:func:`denormalize` with this preprocessor's mean and std (RGB if converted)."""
        if self.normalization is None:
            return denormalize(tensor, None, None, clamp)
        return denormalize(tensor, *self.normalization, clamp)


def input_normalization(
        preprocessor: nn.Module) -> Tuple[Optional[Tuple[Tensor, Tensor]], bool]:
    """(normalization, channel_conversion) of any model's data preprocessor, as
    :attr:`MultiTaskDataPreprocessor.normalization` / ``.channel_conversion``.

    mmengine's :class:`~mmengine.model.ImgDataPreprocessor` (the base of mmdet's
    ``DetDataPreprocessor`` and of :class:`MultiTaskDataPreprocessor`) keeps both settings
    in private attributes and has no public accessor; this is the one place that reads
    them. Any other preprocessor (e.g. mmengine's ``BaseDataPreprocessor``, the default)
    neither normalises nor converts channels.
    """
    if not isinstance(preprocessor, ImgDataPreprocessor):
        return None, False
    normalization = ((preprocessor.mean.flatten(), preprocessor.std.flatten())
                     if preprocessor._enable_normalize else None)
    return normalization, bool(preprocessor._channel_conversion)
