"""Dense multi-task datasets (NYUD-v2, PASCAL VOC, PASCAL-Context) in the format of
``mtlunder.data_converters.dense``."""
import json
from typing import List, Optional, Sequence

from mmengine.dataset import BaseDataset
from mmengine.fileio import exists, get_local_path, get_text, join_path

from mtlunder.registry import DATASETS
from mtlunder.structures import TASK_NAMES

from .seeding import SeededSampleMixin
from .transforms.loading import MAP_TASKS, label_path_key

#: Who writes the format, shown when ``meta.json`` or a split file is missing.
CONVERTERS = ('data_tools/convert_nyud.py, data_tools/convert_voc.py or '
              'data_tools/convert_pascal_context.py (see docs/data_preparation.md, '
              '"Dense multi-task format")')

#: Input image extensions, in lookup order.
IMAGE_EXTS = ('.jpg', '.png')


@DATASETS.register_module()
class DenseMultiTaskDataset(SeededSampleMixin, BaseDataset):
    """Images with dense labels, each sample labelled for the tasks it has files for.

    On disk (``data_root``, written by :data:`CONVERTERS`)::

        images/<id>.(jpg|png)      input
        segmentation/<id>.png      uint8 class index, 255 = ignore       (task seg)
        depth/<id>.npy             float32 [H, W], metres, 0 = no depth  (depth)
        normals/<id>.npy           float32 [H, W, 3], (0, 0, 0) = invalid (normal)
        edges/<id>.png, parts/<id>.png, saliency/<id>.png   uint8       (edge, parts, sal)
        splits/<split>.txt         one id per line
        meta.json                  tasks with counts, class names, ``layout``

    The label file of each task is ``meta.json``'s ``layout[task]`` with ``<id>``
    replaced (the converters' ``DENSE_LAYOUT`` when it has none); a missing file means
    the sample is not labelled for that task.

    Each data info: ``img_id`` (str), ``img_path``, ``height``, ``width`` (pixels, from
    the image header), ``<task>_path`` for every task of ``tasks`` (``seg_path``,
    ``depth_path``, ...; None when the sample has no such file) and ``tasks`` (tuple of
    the tasks whose file exists). Metainfo: ``classes`` (the segmentation class names
    of ``meta.json``, ``()`` without any), ``parts_classes`` and ``tasks``; the whole
    ``meta.json`` is the attribute ``meta``.

    An index of the training samplers (a ``SeededIndex``) is loaded with the random
    generators seeded from its draw (:mod:`mtlunder.datasets.seeding`).

    Errors name the file: a missing ``meta.json`` or split file (and which converters
    write them), an id listed twice, a missing image, a task not in ``meta.json``.

    Args:
        data_root (str): dataset folder.
        split (str): reads ``splits/<split>.txt``. Defaults to 'train'.
        tasks (Sequence[str], optional): tasks to load, a subset of the dense tasks of
            ``meta.json``; None for all of them.
        metainfo (dict, optional): extra metainfo; ``classes`` must be meta.json's.
        backend_args (dict, optional): file backend arguments. Defaults to None.
        **kwargs: the arguments of :class:`mmengine.dataset.BaseDataset` (``pipeline``,
            ``test_mode``, ``indices``, ...) except ``ann_file``.
    """

    #: Who writes this dataset's folder, named when ``meta.json`` or a split is missing.
    converters: str = CONVERTERS

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 tasks: Optional[Sequence[str]] = None,
                 metainfo: Optional[dict] = None,
                 backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        self.split = split
        self.backend_args = backend_args
        self.meta_file = join_path(data_root, 'meta.json')
        self.meta = self._read_meta()
        self.layout = self._layout()
        self.tasks = self._select_tasks(tasks)
        classes = tuple(self.meta.get('seg_classes') or ())
        metainfo = dict(metainfo or {})
        if 'classes' in metainfo and tuple(metainfo['classes']) != classes:
            raise ValueError(f'metainfo classes {tuple(metainfo["classes"])} differ from '
                             f'the seg_classes {classes} of {self.meta_file}; the labels '
                             'are indices into those')
        metainfo = {**dict(classes=classes, tasks=self.tasks,
                           parts_classes=tuple(self.meta.get('parts_classes') or ())),
                    **metainfo}
        super().__init__(ann_file=join_path('splits', f'{split}.txt'), metainfo=metainfo,
                         data_root=data_root, **kwargs)

    def _read_meta(self) -> dict:
        if not exists(self.meta_file, backend_args=self.backend_args):
            raise FileNotFoundError(f'{self.meta_file} not found: not a dense multi-task '
                                    f'dataset folder; it is written by {self.converters}')
        try:
            return json.loads(get_text(self.meta_file, backend_args=self.backend_args))
        except json.JSONDecodeError as err:
            raise ValueError(f'{self.meta_file} is not valid JSON ({err})') from err

    def _layout(self) -> dict:
        """task -> relative label path with an ``<id>`` placeholder."""
        layout = self.meta.get('layout')
        if layout is None:
            from mtlunder.data_converters.dense import DENSE_LAYOUT

            layout = {task: f'{folder}/<id>{suffix}'
                      for task, (folder, suffix) in DENSE_LAYOUT.items()}
        return layout

    def _select_tasks(self, tasks: Optional[Sequence[str]]) -> tuple:
        labelled = self.meta.get('tasks') or {}
        available = tuple(t for t in MAP_TASKS if t in labelled and t in self.layout)
        if tasks is None:
            return available
        unknown = [t for t in tasks if t not in TASK_NAMES]
        if unknown:
            raise ValueError(f'unknown tasks {unknown}; expected names from {TASK_NAMES}')
        missing = [t for t in tasks if t not in available]
        if missing:
            raise ValueError(f'tasks {missing} have no dense labels in {self.meta_file} '
                             f'(its dense tasks: {list(available)})')
        return tuple(t for t in MAP_TASKS if t in tasks)

    def load_data_list(self) -> List[dict]:
        """One data info per id of the split file, in file order."""
        if not exists(self.ann_file, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'split file {self.ann_file} not found (splits of {self.meta_file}: '
                f"{sorted(self.meta.get('splits') or ())}); split files are written by "
                f'{self.converters}')
        ids = get_text(self.ann_file, backend_args=self.backend_args).split()
        line_of = {}
        for line, sample_id in enumerate(ids, start=1):
            if sample_id in line_of:
                raise ValueError(f'{self.ann_file}: id {sample_id!r} is listed twice '
                                 f'(entries {line_of[sample_id]} and {line})')
            line_of[sample_id] = line
        return [self._data_info(sample_id) for sample_id in ids]

    def _data_info(self, sample_id: str) -> dict:
        info = dict(img_id=sample_id, img_path=self._image_path(sample_id))
        info['height'], info['width'] = self._image_hw(info['img_path'])
        tasks = []
        for task in self.tasks:
            path = join_path(self.data_root, self.layout[task].replace('<id>', sample_id))
            if exists(path, backend_args=self.backend_args):
                tasks.append(task)
            else:
                path = None
            info[label_path_key(task)] = path
        info['tasks'] = tuple(tasks)
        return info

    def _image_path(self, sample_id: str) -> str:
        for ext in IMAGE_EXTS:
            path = join_path(self.data_root, 'images', f'{sample_id}{ext}')
            if exists(path, backend_args=self.backend_args):
                return path
        raise FileNotFoundError(
            f"image {join_path(self.data_root, 'images', sample_id)}"
            f".({'|'.join(e[1:] for e in IMAGE_EXTS)}) of id {sample_id!r} listed in "
            f'{self.ann_file} does not exist')

    def _image_hw(self, img_path: str) -> tuple:
        """(height, width) from the image header (the pixels are not decoded)."""
        from PIL import Image

        with get_local_path(img_path, backend_args=self.backend_args) as local_path:
            with Image.open(local_path) as image:
                width, height = image.size
        return height, width
