"""Loading of the clean reference image that goes with an underwater input."""
from typing import Optional

import mmcv
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mtlunder.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadReferenceImage(BaseTransform):
    """Read ``results['ref_path']`` into ``results['gt_clean']``.

    Place it right after ``LoadImageFromFile`` and before any geometric transform. The
    reference is decoded like mmcv's ``LoadImageFromFile`` decodes the input (colour,
    BGR, same backend), so input and reference share one channel order.

    Required keys: ``img`` (H x W x 3), ``img_path``; optional ``ref_path``, ``tasks``.
    Added key: ``gt_clean`` (uint8, H x W x 3, BGR) when the sample has a reference.

    Errors name the file: ``FileNotFoundError`` for a missing reference, ``OSError`` for
    one that cannot be decoded, ``ValueError`` when its size differs from the input's or
    when a sample labelled for ``enh`` has no ``ref_path``.

    Args:
        imdecode_backend (str): decoding backend, as in ``LoadImageFromFile``.
            Defaults to 'cv2'.
        backend_args (dict, optional): file backend arguments. Defaults to None.
    """

    def __init__(self, imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        ref_path = results.get('ref_path')
        if ref_path is None:
            if 'enh' in results.get('tasks', ()):
                raise ValueError(f"{results.get('img_path')} is labelled for 'enh' but has "
                                 'no ref_path')
            return results
        try:
            ref_bytes = fileio.get(ref_path, backend_args=self.backend_args)
        except FileNotFoundError as err:
            raise FileNotFoundError(f'reference image {ref_path} (of input '
                                    f"{results.get('img_path')}) does not exist") from err
        ref = mmcv.imfrombytes(ref_bytes, flag='color', channel_order='bgr',
                               backend=self.imdecode_backend)
        if ref is None:
            raise OSError(f'cannot decode reference image {ref_path} '
                          f'({len(ref_bytes)} bytes): corrupt or not an image')
        img_hw = tuple(results['img'].shape[:2])
        if tuple(ref.shape[:2]) != img_hw:
            raise ValueError(f"reference {ref_path} is {ref.shape[1]}x{ref.shape[0]} (WxH) "
                             f"but input {results.get('img_path')} is {img_hw[1]}x{img_hw[0]};"
                             ' LoadReferenceImage must come before geometric transforms and '
                             'the pair must have one size')
        results['gt_clean'] = ref
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(imdecode_backend={self.imdecode_backend!r}, '
                f'backend_args={self.backend_args})')
