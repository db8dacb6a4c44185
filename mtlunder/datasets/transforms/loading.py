"""Loading of the labels that go with an input: the clean reference image and the dense
label maps, each into the ``results`` key of its task in :data:`TASK_SPECS`."""
import io
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mtlunder.registry import TRANSFORMS
from mtlunder.structures import TASK_SPECS, tasks_of_kind

#: The task whose label is a clean reference image (read from ``ref_path``).
REF_SPEC = TASK_SPECS[tasks_of_kind('image')[0]]

#: Label kinds read from a file of their own by :class:`LoadDenseAnnotations`, with the
#: dtype and the number of channels (None: [H, W]) they are loaded with.
MAP_KINDS = dict(label_map=(np.uint8, None), continuous_map=(np.float32, None),
                 unit_vector_map=(np.float32, 3))

#: The tasks :class:`LoadDenseAnnotations` loads, in table order.
MAP_TASKS = tuple(name for name, spec in TASK_SPECS.items() if spec.kind in MAP_KINDS)


def label_path_key(task: str) -> str:
    """Key of a task's label file in a data info: ``ref_path`` for the reference image,
    ``<task>_path`` (``seg_path``, ``depth_path``, ...) for a dense label map."""
    return 'ref_path' if task == REF_SPEC.name else f'{task}_path'


#: results key set when the dense labels were loaded after a resize (original size)
LABELS_AT_ORI_SHAPE = 'labels_at_ori_shape'


@TRANSFORMS.register_module()
class LoadReferenceImage(BaseTransform):
    """Read ``results['ref_path']`` into the results key of the reference task
    (``gt_clean``: the task of kind ``'image'`` in :data:`TASK_SPECS`).

    Place it right after ``LoadImageFromFile`` and before any geometric transform. The
    reference is decoded like mmcv's ``LoadImageFromFile`` decodes the input (colour,
    BGR, same backend), so input and reference share one channel order.

    Required keys: ``img`` (H x W x 3), ``img_path``; optional ``ref_path``, ``tasks``.
    Added key: ``gt_clean`` (uint8, H x W x 3, BGR) when the sample has a reference.

    Errors name the file: ``FileNotFoundError`` for a missing reference, ``OSError`` for
    one that cannot be decoded, ``ValueError`` when its size differs from the input's or
    when a sample labelled for the reference task has no ``ref_path``.

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
        ref_path = results.get(label_path_key(REF_SPEC.name))
        if ref_path is None:
            if REF_SPEC.name in results.get('tasks', ()):
                raise ValueError(f"{results.get('img_path')} is labelled for "
                                 f"{REF_SPEC.name!r} but has no ref_path")
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
        results[REF_SPEC.results_key] = ref
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(imdecode_backend={self.imdecode_backend!r}, '
                f'backend_args={self.backend_args})')


@TRANSFORMS.register_module()
class LoadDenseAnnotations(BaseTransform):
    """Read every dense label file of a sample into ``results[spec.results_key]``.

    For each task of :data:`MAP_TASKS` (label kinds of :data:`MAP_KINDS`) whose
    ``<task>_path`` is set, the file is read (``.npy``: numpy, otherwise an image decoded
    unchanged) and checked against its kind:

    - ``label_map`` (seg, edge, sal, parts): uint8 [H, W] class indices, 255 = ignore
      (palette PNGs give their indices with the default pillow decoder).
    - ``continuous_map`` (depth): float32 [H, W], metres, 0 = no measurement.
    - ``unit_vector_map`` (normal): float32 [H, W, 3], (0, 0, 0) = invalid.

    Place it after ``LoadImageFromFile``: a label whose [H, W] differs from the input's
    original size (``ori_shape``, else ``img``) is refused. Before the geometric transforms
    the labels move with the input (training); after a resize they stay at the original
    size, which is what the metrics compare with (testing, as mmseg loads annotations), and
    ``results['labels_at_ori_shape']`` tells the packing so. Required keys: ``img_path``, the ``<task>_path`` keys (None = not labelled);
    optional ``img``, ``tasks``. Added keys: ``gt_seg_map``, ``gt_depth``, ``gt_normal``,
    ``gt_edge``, ``gt_sal``, ``gt_parts`` (those with a file).

    Errors name the file: ``FileNotFoundError`` for a missing file, ``OSError`` for a
    truncated or corrupt one, ``ValueError`` for a wrong shape, dtype or size, and for a
    task in ``results['tasks']`` without a file.

    Args:
        imdecode_backend (str): decoder of the PNG labels. Defaults to 'pillow'.
        backend_args (dict, optional): file backend arguments. Defaults to None.
    """

    def __init__(self, imdecode_backend: str = 'pillow',
                 backend_args: Optional[dict] = None) -> None:
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        tasks = results.get('tasks', ())
        for task in MAP_TASKS:
            path = results.get(label_path_key(task))
            if path is None:
                if task in tasks:
                    raise ValueError(f"{results.get('img_path')} is labelled for {task!r} "
                                     f'but has no {label_path_key(task)}')
                continue
            label = self._check(self._read(path), TASK_SPECS[task].kind, path, results)
            results[TASK_SPECS[task].results_key] = label
        img = results.get('img')
        if img is not None and 'ori_shape' in results and \
                tuple(img.shape[:2]) != tuple(results['ori_shape'][:2]):
            # loaded after a resize (a test pipeline): the labels stay at the original size
            results[LABELS_AT_ORI_SHAPE] = True
        return results

    def _read(self, path: str) -> np.ndarray:
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError as err:
            raise FileNotFoundError(f'label file {path} does not exist') from err
        try:
            if str(path).endswith('.npy'):
                return np.load(io.BytesIO(data), allow_pickle=False)
            label = mmcv.imfrombytes(data, flag='unchanged', backend=self.imdecode_backend)
        except (OSError, SyntaxError, ValueError, EOFError) as err:
            raise OSError(f'cannot read label file {path} ({len(data)} bytes): truncated or '
                          f'corrupt ({err})') from err
        if label is None:
            raise OSError(f'cannot decode label file {path} ({len(data)} bytes): truncated '
                          'or corrupt')
        return label

    @staticmethod
    def _check(label: np.ndarray, kind: str, path: str, results: dict) -> np.ndarray:
        dtype, channels = MAP_KINDS[kind]
        shape_ok = label.ndim == 2 if channels is None else (
            label.ndim == 3 and label.shape[2] == channels)
        want = '[H, W]' if channels is None else f'[H, W, {channels}]'
        if not shape_ok:
            raise ValueError(f'label file {path} has shape {label.shape}; a {kind} is {want}')
        if dtype == np.uint8:
            if not np.issubdtype(label.dtype, np.integer) or label.max(initial=0) > 255:
                raise ValueError(f'label file {path} ({label.dtype}, max '
                                 f'{label.max(initial=0)}) is not a uint8 label map')
        elif not np.issubdtype(label.dtype, np.floating):
            raise ValueError(f'label file {path} is {label.dtype}; a {kind} is float')
        img = results.get('img')
        size = tuple(results['ori_shape'][:2]) if 'ori_shape' in results else \
            None if img is None else tuple(img.shape[:2])
        if size is not None and tuple(label.shape[:2]) != size:
            raise ValueError(f'label file {path} is {label.shape[1]}x{label.shape[0]} (WxH) '
                             f"but input {results.get('img_path')} is {size[1]}x{size[0]}")
        return label.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(imdecode_backend={self.imdecode_backend!r}, '
                f'backend_args={self.backend_args})')
