"""Paired random zoom and rotation about the image centre (the ``ScaleNRotate``
augmentation of ASTMT and the SquadNet reference code), with one random draw for the input
and every dense label."""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mtlunder.registry import TRANSFORMS
from mtlunder.structures import TASK_SPECS
from .geometric import REF_KEYS, _pad_value, _present, _unit

#: Dense labels warped here (mmdet's ``gt_seg_map`` included): results key -> spec.
DENSE_LABEL_SPECS = {spec.results_key: spec for spec in TASK_SPECS.values()
                     if spec.is_dense and spec.kind != 'image'}

_CV2_INTERP = dict(nearest=cv2.INTER_NEAREST, bilinear=cv2.INTER_LINEAR,
                   bicubic=cv2.INTER_CUBIC)


@TRANSFORMS.register_module()
class PairedRandomScaleRotate(BaseTransform):
    """Zoom by a random scale s and rotate by a random angle about the image centre, on a
    canvas of the same size (s > 1 zooms in and cuts the border off, s < 1 zooms out and
    leaves a border).

    One draw of (s, angle) per sample moves the input and every dense label with the rule
    of its kind (:data:`~mtlunder.structures.TASK_SPECS`):

    - input and ``ref_keys``: ``interpolation`` (bilinear), border ``img_border_value``;
    - label maps (seg, edge, sal, parts): nearest, border = their ignore value (255);
    - depth (``continuous_map``, metres): nearest, border 0 (no measurement), values
      divided by s (a zoom by s brings the scene s times closer), as the reference does;
    - normals (``unit_vector_map``): their (x, y) components turn with the image, x to
      the right and y down as in the reference's rotation, then nearest, renormalised,
      border the zero (invalid) vector.

    Borders are ignored (labels) or black (input); the reference code fills every map with
    0 there, which for class maps means "background".

    Args:
        scale_range: (min, max): s uniform in it.
        scale_choices: s drawn from these values (NYUD-v2's 1.0 / 1.2 / 1.5); exactly one
            of ``scale_range`` and ``scale_choices`` is given.
        rotate_range: (min, max) degrees, counter-clockwise, uniform; None: no rotation.
        interpolation: of the input and the reference images.
        img_border_value: border value of the input and the reference images.
        ref_keys: image-like targets moved with the input.

    Records ``scale_rotate`` = (s, angle) in ``results``; labels of the boxes kind are not
    supported (a ValueError names them).
    """

    def __init__(self, scale_range: Optional[Sequence[float]] = None,
                 scale_choices: Optional[Sequence[float]] = None,
                 rotate_range: Optional[Sequence[float]] = None,
                 interpolation: str = 'bilinear', img_border_value: float = 0,
                 ref_keys: Sequence[str] = REF_KEYS) -> None:
        if (scale_range is None) == (scale_choices is None):
            raise ValueError('PairedRandomScaleRotate needs exactly one of scale_range and '
                             f'scale_choices, got {scale_range} and {scale_choices}')
        for name, rng in (('scale_range', scale_range), ('rotate_range', rotate_range)):
            if rng is not None and (len(rng) != 2 or rng[0] > rng[1]):
                raise ValueError(f'PairedRandomScaleRotate {name} must be (min, max), '
                                 f'got {rng}')
        scales = scale_range if scale_range is not None else scale_choices
        if not len(scales) or min(scales) <= 0:
            raise ValueError(f'PairedRandomScaleRotate scales must be positive, got {scales}')
        if interpolation not in _CV2_INTERP:
            raise ValueError(f'PairedRandomScaleRotate interpolation must be one of '
                             f'{list(_CV2_INTERP)}, got {interpolation!r}')
        self.scale_range = None if scale_range is None else tuple(scale_range)
        self.scale_choices = None if scale_choices is None else tuple(scale_choices)
        self.rotate_range = None if rotate_range is None else tuple(rotate_range)
        self.interpolation = interpolation
        self.img_border_value = img_border_value
        self.ref_keys = tuple(ref_keys)

    @cache_randomness
    def _random_params(self) -> Tuple[float, float]:
        """(scale, angle in degrees) of one sample."""
        if self.scale_range is not None:
            scale = float(np.random.uniform(*self.scale_range))
        else:
            scale = float(self.scale_choices[np.random.randint(len(self.scale_choices))])
        angle = 0.0 if self.rotate_range is None else float(np.random.uniform(
            *self.rotate_range))
        return scale, angle

    def transform(self, results: dict) -> dict:
        boxes = [k for k in _present(results, ('gt_bboxes', ))
                 if len(results[k])]
        if boxes:
            raise ValueError(f'PairedRandomScaleRotate moves dense labels only; '
                             f'{results.get("img_path", "the sample")} has boxes {boxes}')
        scale, angle = self._random_params()
        h, w = results['img'].shape[:2]
        matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, scale)

        def warp(array, flags, border):
            return cv2.warpAffine(array, matrix, (w, h), flags=flags,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=border)

        interp = _CV2_INTERP[self.interpolation]
        for key in ('img', ) + tuple(k for k in self.ref_keys if k != 'img'):
            if results.get(key) is None:
                continue
            image = results[key]
            border = (self.img_border_value, ) * (image.shape[2] if image.ndim == 3 else 1)
            warped = warp(image, interp, border)
            results[key] = warped.reshape(warped.shape[:2] + image.shape[2:])
        rotation = matrix[:, :2] / scale  # turns pixel-axis vectors (x right, y down)
        for key in _present(results, DENSE_LABEL_SPECS):
            spec = DENSE_LABEL_SPECS[key]
            label = results[key]
            if spec.kind == 'unit_vector_map':
                label = label.astype(np.float32, copy=True)
                label[..., :2] = label[..., :2] @ rotation.T.astype(np.float32)
            border = _pad_value(spec, label)
            border = border if isinstance(border, tuple) else (border, )
            warped = warp(label, _CV2_INTERP[spec.interpolation], border)
            warped = warped.reshape(warped.shape[:2] + label.shape[2:])
            if spec.kind == 'unit_vector_map':
                warped = _unit(warped)
            elif spec.kind == 'continuous_map':
                warped = (warped / scale).astype(label.dtype)
            results[key] = warped
        homography = np.vstack([matrix, [0, 0, 1]]).astype(np.float32)
        previous = results.get('homography_matrix')
        results['homography_matrix'] = (homography if previous is None else
                                        homography @ previous)
        results['scale_rotate'] = (scale, angle)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scale_range={self.scale_range}, '
                f'scale_choices={self.scale_choices}, rotate_range={self.rotate_range}, '
                f'interpolation={self.interpolation!r})')
