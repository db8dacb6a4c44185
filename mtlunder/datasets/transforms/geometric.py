"""Paired geometric transforms: every dense target moves with the input, one random draw.

Each class subclasses the mmdet transform of the same name, so the input, boxes, masks
and ``gt_seg_map`` get mmdet's exact behaviour (nearest resize, mirror, same crop, pad
with ``pad_val['seg']``, 255 by default). Then every other dense label of
:data:`TASK_SPECS` present in ``results`` receives the very same operation with the
parameters mmdet just drew and recorded (scale, flip direction, crop offset, pad shape),
with the rule of its kind:

- reference images (``ref_keys``, default ``gt_clean``, H x W x C like ``img``): the
  input's interpolation (bilinear by default) and pad value; a reference equal to the
  input stays equal to it, pixel for pixel.
- label maps (edge, sal, parts; uint8 [H, W]): nearest, padded with the ignore value.
- depth (float32 [H, W], metres): nearest, so values never mix across object borders and
  0 (no measurement) never blends into valid depth; padded with 0.
- normals (float32 [H, W, 3]): nearest, then renormalised to unit length (zero vectors
  stay zero); a flip mirrors the map and negates the component along the flip axis (x for
  horizontal, y for vertical, both for diagonal); padded with the zero (invalid) vector.

Random scale (e.g. NYUD-v2's [0.5, 2.0]) is mmcv's ``RandomResize`` with
``resize_type='PairedResize'`` and ``ratio_range``. A crop larger than the image is
reached mmseg style: ``PairedPad(size=crop)`` first (pads to at least that size, labels
with their ignore value), then ``PairedRandomCrop(crop_size=crop)``.
"""
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmdet.datasets.transforms import Pad, RandomCrop, RandomFlip, Resize
from mmdet.structures.bbox import autocast_box_type

from mtlunder.registry import TRANSFORMS
from mtlunder.structures import TASK_SPECS, tasks_of_kind

#: mmdet's own semantic map key: mmdet's Resize / Flip / Crop / Pad already move it.
MMDET_SEG_KEY = 'gt_seg_map'

#: Default image-like targets that share every geometric transform of the input.
REF_KEYS = tuple(TASK_SPECS[task].results_key for task in tasks_of_kind('image'))

#: Dense labels moved here with the rule of their kind: results key -> spec.
LABEL_SPECS = {
    spec.results_key: spec for spec in TASK_SPECS.values()
    if spec.is_dense and spec.kind != 'image' and spec.results_key != MMDET_SEG_KEY
}

#: Tasks whose boxes a crop can lose.
BOX_TASKS = tasks_of_kind('boxes')

#: Vector components negated by a flip of each direction (``mirror_negate_x`` rule).
FLIP_NEGATED = dict(horizontal=[0], vertical=[1], diagonal=[0, 1])


def _present(results: dict, keys: Sequence[str]) -> list:
    return [key for key in keys if results.get(key) is not None]


def _unit(vectors: np.ndarray) -> np.ndarray:
    """[H, W, 3] vectors scaled to unit length; zero vectors stay zero."""
    norm = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, norm, out=np.zeros_like(vectors), where=norm > 0)


def _pad_value(spec, label: np.ndarray):
    """The ignore value of ``spec`` (0 without one), one per channel of ``label``."""
    value = 0 if spec.ignore_value is None else spec.ignore_value
    return (value, ) * label.shape[2] if label.ndim == 3 else value


@TRANSFORMS.register_module()
class PairedResize(Resize):
    """mmdet ``Resize``; ``ref_keys`` are resized to the new ``img_shape`` with the
    input's interpolation (bilinear by default) and backend, the other dense labels with
    their kind's (nearest; normals renormalised).

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
        for key in _present(results, LABEL_SPECS):
            spec = LABEL_SPECS[key]
            label = mmcv.imresize(results[key], (w, h), interpolation=spec.interpolation,
                                  backend=self.backend)
            results[key] = _unit(label) if spec.kind == 'unit_vector_map' else label
        return results


@TRANSFORMS.register_module()
class PairedRandomFlip(RandomFlip):
    """mmdet ``RandomFlip``; ``ref_keys`` and the dense labels are flipped in the drawn
    direction, normals with the component along the flip axis negated.

    Args:
        ref_keys (Sequence[str]): image-like targets flipped with the input.
        **kwargs: the arguments of :class:`mmdet.datasets.transforms.RandomFlip`.
    """

    def __init__(self, *args, ref_keys: Sequence[str] = REF_KEYS, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ref_keys = tuple(ref_keys)

    def _flip(self, results: dict) -> None:
        super()._flip(results)
        direction = results['flip_direction']
        for key in _present(results, self.ref_keys):
            results[key] = mmcv.imflip(results[key], direction=direction)
        for key in _present(results, LABEL_SPECS):
            label = mmcv.imflip(results[key], direction=direction)
            if LABEL_SPECS[key].flip == 'mirror_negate_x':
                sign = np.ones(label.shape[-1], label.dtype)
                sign[FLIP_NEGATED[direction]] = -1
                label = label * sign  # a new array: the flip is a view of the input
            results[key] = label


@TRANSFORMS.register_module()
class PairedRandomCrop(RandomCrop):
    """mmdet ``RandomCrop``; ``ref_keys`` and the dense labels are cropped at the same
    offset and size.

    ``crop_size`` is mmdet's (w, h): NYUD-v2's 425 x 560 (h x w) crop is
    ``crop_size=(560, 425)``; put ``PairedPad(size=(560, 425))`` before it for images
    smaller than the crop. The crop offset is read back from the homography matrix mmdet
    records for the crop, so boxes keep mmdet's exact behaviour. A sample not labelled
    for a box task (of kind ``'boxes'`` in :data:`TASK_SPECS`) has no boxes to lose, so a
    crop without boxes is always allowed for it (mmdet would drop it when
    ``allow_negative_crop=False``); a sample without ``tasks`` counts as labelled.

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
        tasks = results.get('tasks', BOX_TASKS)
        allow_negative = self.allow_negative_crop or not any(t in tasks for t in BOX_TASKS)
        previous = results.pop('homography_matrix', None)
        results = self._crop_data(results, crop_size, allow_negative)
        if results is None:
            return None
        crop_matrix = results['homography_matrix']
        if previous is not None:
            results['homography_matrix'] = crop_matrix @ previous
        x1, y1 = -int(round(crop_matrix[0, 2])), -int(round(crop_matrix[1, 2]))
        h, w = results['img'].shape[:2]
        for key in _present(results, self.ref_keys + tuple(LABEL_SPECS)):
            results[key] = results[key][y1:y1 + h, x1:x1 + w, ...]
        return results


@TRANSFORMS.register_module()
class PairedPad(Pad):
    """mmdet ``Pad``; ``ref_keys`` are padded to the input's ``pad_shape`` with the
    input's pad value (``pad_val['img']``), the dense labels with their ignore value
    (label maps 255, depth 0, normals the zero vector), both in ``padding_mode``.

    With ``size`` it pads to at least that size (w, h), as mmcv does.

    Args:
        ref_keys (Sequence[str]): image-like targets padded with the input.
        **kwargs: the arguments of :class:`mmdet.datasets.transforms.Pad`.
    """

    def __init__(self, *args, ref_keys: Sequence[str] = REF_KEYS, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ref_keys = tuple(ref_keys)

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        shape = results['pad_shape'][:2]
        for key in _present(results, self.ref_keys):
            ref = results[key]
            pad_val = self.pad_val.get('img', 0)
            if isinstance(pad_val, int) and ref.ndim == 3:  # as mmcv pads the input
                pad_val = (pad_val, ) * ref.shape[2]
            results[key] = mmcv.impad(ref, shape=shape, pad_val=pad_val,
                                      padding_mode=self.padding_mode)
        for key in _present(results, LABEL_SPECS):
            label = results[key]
            results[key] = mmcv.impad(label, shape=shape,
                                      pad_val=_pad_value(LABEL_SPECS[key], label),
                                      padding_mode=self.padding_mode)
        return results
