"""Photometric augmentation of the underwater input only.

Photometric transforms change ``results['img']`` and nothing else: the clean reference
``gt_clean`` is the target and must not be distorted. mmdet's ``PhotoMetricDistortion``
already reads and writes only ``img`` (checked by the tests), so it can be used as is.
"""
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mtlunder.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomWaterCast(BaseTransform):
    """Add a random water colour cast and haze to the input, following the image
    formation model ``I' = I * t + B * (1 - t)`` with one transmission ``t`` and one
    veiling light ``B`` per channel.

    Required key: ``img`` (H x W x 3, any channel order). Modified: ``img`` (float32, in
    the input's 0-255 range). ``gt_clean`` and every other key are left untouched.

    Args:
        prob (float): probability to apply the cast. Defaults to 0.5.
        transmission_range (tuple[float, float]): range of ``t`` per channel, in (0, 1].
            Defaults to (0.6, 1.0).
        veil_range (tuple[float, float]): range of ``B`` per channel, 0-255.
            Defaults to (0., 255.).
    """

    def __init__(self, prob: float = 0.5, transmission_range: tuple = (0.6, 1.0),
                 veil_range: tuple = (0., 255.)) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        if not 0 < transmission_range[0] <= transmission_range[1] <= 1:
            raise ValueError(f'transmission_range must lie in (0, 1], got {transmission_range}')
        if not 0 <= veil_range[0] <= veil_range[1] <= 255:
            raise ValueError(f'veil_range must lie in [0, 255], got {veil_range}')
        self.prob = prob
        self.transmission_range = tuple(transmission_range)
        self.veil_range = tuple(veil_range)

    @cache_randomness
    def _draw(self, channels: int):
        """Whether to apply, and ``t``, ``B`` (each of shape [channels])."""
        apply = np.random.rand() < self.prob
        t = np.random.uniform(*self.transmission_range, size=channels)
        veil = np.random.uniform(*self.veil_range, size=channels)
        return apply, t.astype(np.float32), veil.astype(np.float32)

    def transform(self, results: dict) -> dict:
        img = results['img']
        apply, t, veil = self._draw(img.shape[2])
        if apply:
            results['img'] = img.astype(np.float32) * t + veil * (1 - t)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'transmission_range={self.transmission_range}, '
                f'veil_range={self.veil_range})')
