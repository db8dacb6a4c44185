"""Paired geometric transforms: image-like targets move with the input, one random draw.

Each class subclasses the mmdet transform of the same name, so the input, boxes, masks
and ``gt_seg_map`` get mmdet's exact behaviour; the keys in ``ref_keys`` (default the
clean reference ``gt_clean``, H x W x C like ``img``) then receive the very same
operation with the parameters mmdet just drew and recorded (scale, flip direction, crop
offset, pad shape). A reference equal to the input stays equal to it, pixel for pixel.
"""
from typing import Optional, Sequence

import mmcv
from mmdet.datasets.transforms import Pad, RandomCrop, RandomFlip, Resize
from mmdet.structures.bbox import autocast_box_type

from mtlunder.registry import TRANSFORMS

#: Default image-like targets that share every geometric transform of the input.
REF_KEYS = ('gt_clean', )


def _present(results: dict, keys: Sequence[str]) -> list:
    return [key for key in keys if results.get(key) is not None]


@TRANSFORMS.register_module()
class PairedResize(Resize):
    """mmdet ``Resize``; ``ref_keys`` are resized to the new ``img_shape`` with the
    input's interpolation (bilinear by default) and backend.

    Args:
        ref_keys (Sequence[str]): image-like targets resized with the input.
        **kwargs: the arguments of :class:`mmdet.datasets.transforms.Resize`.
    """

    def __init__(self, *args, ref_keys: Sequence[str] = REF_KEYS, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ref_keys = tuple(ref_keys)

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        h, w = results['img_shape']
        for key in _present(results, self.ref_keys):
            results[key] = mmcv.imresize(results[key], (w, h),
                                         interpolation=self.interpolation,
                                         backend=self.backend)
        return results


@TRANSFORMS.register_module()
class PairedRandomFlip(RandomFlip):
    """mmdet ``RandomFlip``; ``ref_keys`` are flipped in the drawn direction.

    Args:
        ref_keys (Sequence[str]): image-like targets flipped with the input.
        **kwargs: the arguments of :class:`mmdet.datasets.transforms.RandomFlip`.
    """

    def __init__(self, *args, ref_keys: Sequence[str] = REF_KEYS, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ref_keys = tuple(ref_keys)

    def _flip(self, results: dict) -> None:
        super()._flip(results)
        for key in _present(results, self.ref_keys):
            results[key] = mmcv.imflip(results[key], direction=results['flip_direction'])


@TRANSFORMS.register_module()
class PairedRandomCrop(RandomCrop):
    """mmdet ``RandomCrop``; ``ref_keys`` are cropped at the same offset and size.

    The crop offset is read back from the homography matrix mmdet records for the crop,
    so boxes keep mmdet's exact behaviour. A sample not labelled for ``det``
    (``'det' not in results['tasks']``) has no boxes to lose, so a crop without boxes
    is always allowed for it (mmdet would drop it when ``allow_negative_crop=False``).

    Args:
        ref_keys (Sequence[str]): image-like targets cropped with the input.
        **kwargs: the arguments of :class:`mmdet.datasets.transforms.RandomCrop`.
    """

    def __init__(self, *args, ref_keys: Sequence[str] = REF_KEYS, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ref_keys = tuple(ref_keys)

    @autocast_box_type()
    def transform(self, results: dict) -> Optional[dict]:
        crop_size = self._get_crop_size(results['img'].shape[:2])
        allow_negative = self.allow_negative_crop or 'det' not in results.get('tasks', ('det', ))
        previous = results.pop('homography_matrix', None)
        results = self._crop_data(results, crop_size, allow_negative)
        if results is None:
            return None
        crop_matrix = results['homography_matrix']
        if previous is not None:
            results['homography_matrix'] = crop_matrix @ previous
        x1, y1 = -int(round(crop_matrix[0, 2])), -int(round(crop_matrix[1, 2]))
        h, w = results['img'].shape[:2]
        for key in _present(results, self.ref_keys):
            results[key] = results[key][y1:y1 + h, x1:x1 + w, ...]
        return results


@TRANSFORMS.register_module()
class PairedPad(Pad):
    """mmdet ``Pad``; ``ref_keys`` are padded to the input's ``pad_shape`` with the
    input's pad value (``pad_val['img']``) and padding mode.

    Args:
        ref_keys (Sequence[str]): image-like targets padded with the input.
        **kwargs: the arguments of :class:`mmdet.datasets.transforms.Pad`.
    """

    def __init__(self, *args, ref_keys: Sequence[str] = REF_KEYS, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ref_keys = tuple(ref_keys)

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        for key in _present(results, self.ref_keys):
            ref = results[key]
            pad_val = self.pad_val.get('img', 0)
            if isinstance(pad_val, int) and ref.ndim == 3:  # as mmcv pads the input
                pad_val = (pad_val, ) * ref.shape[2]
            results[key] = mmcv.impad(ref, shape=results['pad_shape'][:2], pad_val=pad_val,
                                      padding_mode=self.padding_mode)
        return results
