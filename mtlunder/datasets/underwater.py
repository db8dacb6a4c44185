"""The underwater multi-task benchmark: detection boxes plus optional clean references,
class maps and depth maps."""
import copy
import math
import os.path as osp
from typing import List

from mmdet.datasets import CocoDataset
from mmdet.datasets.api_wrappers import COCO
from mmengine.fileio import exists, get_local_path
from mmengine.logging import print_log

from mtlunder.registry import DATASETS
from mtlunder.structures import TASK_NAMES, tasks_of_kind

from .seeding import SeededSampleMixin

#: What a missing annotation file's error says when the config gives no command.
DEFAULT_BUILD_HINT = ('build the benchmark with data_tools/build_underwater_benchmark.py '
                      '(real sources) or data_tools/synth_underwater.py (synthetic); see '
                      'docs/data_preparation.md')

#: Optional per-image fields of the ``images`` entries copied into each data info.
EXTRA_IMAGE_KEYS = ('water_type', 'range_min', 'range_mean', 'range_max', 'depth_below_surface',
                    'source')

#: Folders of the per-image files, relative to ``data_root`` (``data_prefix`` defaults; a
#: config's ``data_prefix`` overrides them key by key).
DEFAULT_DATA_PREFIX = dict(img='images/', ref='references/', seg='segmentation/',
                           depth='depth/')

#: The task of the COCO boxes and the task of the clean reference (the task table's
#: ``boxes`` and ``image`` kinds: ``det`` and ``enh``).
(BOXES_TASK, ) = tasks_of_kind('boxes')
(REFERENCE_TASK, ) = tasks_of_kind('image')

#: Optional per-image label files: task -> (image entry key, ``data_prefix`` key, data
#: info key). An image labelled for the task must name its file.
LABEL_FILE_KEYS = dict(seg=('segmentation', 'seg', 'seg_path'),
                       depth=('depth', 'depth', 'depth_path'))


def image_tasks(img_info: dict) -> tuple:
    """The task names a COCO image entry is labelled for: its ``tasks`` or, without that
    key, ``('det',)`` plus ``'enh'`` when it has a ``reference`` (a plain COCO file is a
    detection-only set)."""
    tasks = img_info.get('tasks')
    if tasks is None:
        tasks = ((BOXES_TASK, REFERENCE_TASK) if img_info.get('reference')
                 else (BOXES_TASK, ))
    return tuple(tasks)


@DATASETS.register_module()
class UnderwaterMultiTaskDataset(SeededSampleMixin, CocoDataset):
    """Underwater images with COCO boxes and, where one exists, a clean reference.

    On disk (``data_root``)::

        images/<name>.(png|jpg)        degraded input
        references/<name>.png          clean reference, only where one exists
        segmentation/<name>.png        uint8 class map (255 = ignore), only where labelled
        depth/<name>.npy               float32 depth in metres, only where labelled
        annotations/{train,val}.json   COCO; images carry ``reference``, ``segmentation``,
                                       ``depth`` (file names) and ``tasks``

    Each data info holds mmdet's fields (``img_path``, ``img_id``, ``height``, ``width``,
    ``instances`` with ``bbox`` xyxy in pixels, ``bbox_label``, ``ignore_flag`` from
    ``iscrowd``) plus ``ref_path``, ``seg_path`` and ``depth_path`` (str, or None when the
    image entry has no ``reference`` / ``segmentation`` / ``depth``), ``tasks`` (tuple of
    task names) and any of :data:`EXTRA_IMAGE_KEYS` the image entry has (ranges in metres).

    An image entry without ``tasks`` is read as ``('det',)`` plus ``'enh'`` when it has a
    reference, so a plain COCO file works as a detection-only set.

    An index of the training samplers (a ``SeededIndex``) is loaded with the random
    generators seeded from its draw (:mod:`mtlunder.datasets.seeding`).

    Categories are matched to ``metainfo['classes']`` by name (not by json order).
    Categories of the json outside ``classes`` are dropped like in mmdet (subset
    training); a class of ``classes`` missing from the json, an annotation with an
    undeclared category id or a non-finite box, boxes on an image not labelled for
    ``det``, ``enh`` without a reference, ``seg`` without a ``segmentation`` file and
    ``depth`` without a ``depth`` file are errors naming the annotation file.

    ``filter_cfg=dict(filter_empty_gt=True)`` drops images labelled for ``det`` without
    boxes (mmdet's rule) and images with no task at all, but keeps images labelled only
    for other tasks (partial labels).

    Args:
        build_hint (str): how to build the benchmark, shown when ``ann_file`` is missing
            (the configs give the exact command).
        check_files (bool): check at init that every listed image, reference, class map
            and depth map exists; raises ``FileNotFoundError`` listing the missing files.
            Defaults to False (the loading transforms check each file when it is read).
        data_prefix (dict): ``img``, ``ref``, ``seg`` and ``depth`` folders, relative to
            ``data_root``; keys not given take :data:`DEFAULT_DATA_PREFIX`.
        **kwargs: the arguments of :class:`mmdet.datasets.CocoDataset`.
    """

    METAINFO = {
        'classes': ('holothurian', 'echinus', 'scallop', 'starfish'),
        'palette': [(220, 20, 60), (0, 82, 255), (255, 179, 0), (0, 200, 120)],
    }

    def __init__(self,
                 *args,
                 data_prefix: dict = DEFAULT_DATA_PREFIX,
                 check_files: bool = False,
                 build_hint: str = DEFAULT_BUILD_HINT,
                 **kwargs) -> None:
        self.check_files = check_files
        self.build_hint = build_hint
        data_prefix = {**DEFAULT_DATA_PREFIX, **data_prefix}
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the COCO file, validate it, and parse one data info per image."""
        if not exists(self.ann_file, backend_args=self.backend_args):
            raise FileNotFoundError(f'annotation file {self.ann_file} not found; '
                                    f'{self.build_hint}')
        with get_local_path(self.ann_file, backend_args=self.backend_args) as local_path:
            coco = COCO(local_path)
        self._set_category_maps(coco)

        data_list, ann_ids, kept, total = [], [], 0, 0
        for img_id in coco.get_img_ids():
            raw_img_info = dict(coco.load_imgs([img_id])[0], img_id=img_id)
            img_ann_ids = coco.get_ann_ids(img_ids=[img_id])
            raw_ann_info = coco.load_anns(img_ann_ids)
            ann_ids.extend(img_ann_ids)
            self._check_annotations(raw_img_info, raw_ann_info, coco)
            data_info = self.parse_data_info(
                dict(raw_img_info=raw_img_info, raw_ann_info=raw_ann_info))
            total += len(raw_ann_info)
            kept += len(data_info['instances'])
            data_list.append(data_info)
        if len(set(ann_ids)) != len(ann_ids):
            raise ValueError(f"annotation ids in '{self.ann_file}' are not unique")
        if kept < total:
            print_log(f'{self.ann_file}: skipped {total - kept} of {total} annotations '
                      '(ignore, empty or outside the image, or a class outside '
                      f'{self.metainfo["classes"]})', logger='current')
        if self.check_files:
            self._check_files_exist(data_list)
        return data_list

    def _set_category_maps(self, coco: COCO) -> None:
        """Map json category ids to labels by class name; fill mmdet's lookup tables."""
        classes = self.metainfo['classes']
        name_to_id = {cat['name']: cat_id for cat_id, cat in coco.cats.items()}
        missing = [name for name in classes if name not in name_to_id]
        if missing:
            raise ValueError(f"'{self.ann_file}': classes {missing} are not among its "
                             f'categories {sorted(name_to_id)}')
        self.cat_ids = [name_to_id[name] for name in classes]
        self.cat2label = {cat_id: label for label, cat_id in enumerate(self.cat_ids)}
        self.cat_img_map = copy.deepcopy(coco.cat_img_map)  # defaultdict, as in mmdet

    def _check_annotations(self, img_info: dict, anns: List[dict], coco: COCO) -> None:
        """Raise a ValueError naming the file, image and annotation for bad input."""
        where = f"'{self.ann_file}', image {img_info['img_id']} ({img_info['file_name']})"
        tasks = self._tasks_of(img_info)
        if anns and BOXES_TASK not in tasks:
            raise ValueError(f'{where} has {len(anns)} boxes but is not labelled for '
                             f"'{BOXES_TASK}' (tasks {list(tasks)})")
        for ann in anns:
            if ann['category_id'] not in coco.cats:
                raise ValueError(f"{where}: annotation {ann['id']} has category_id "
                                 f"{ann['category_id']}, not declared in 'categories'")
            bbox = ann.get('bbox')
            if bbox is None or len(bbox) != 4 or not all(
                    isinstance(v, (int, float)) and math.isfinite(v) for v in bbox):
                raise ValueError(f"{where}: annotation {ann['id']} has an invalid bbox "
                                 f'{bbox} (expected 4 finite numbers [x, y, w, h])')

    def _tasks_of(self, img_info: dict) -> tuple:
        """The task names an image entry is labelled for, validated."""
        tasks = image_tasks(img_info)
        unknown = [t for t in tasks if t not in TASK_NAMES]
        if unknown:
            raise ValueError(f"'{self.ann_file}', image {img_info['img_id']} "
                             f'({img_info["file_name"]}): unknown tasks {unknown}; '
                             f'expected names from {TASK_NAMES}')
        if REFERENCE_TASK in tasks and not img_info.get('reference'):
            raise ValueError(f"'{self.ann_file}', image {img_info['img_id']} "
                             f"({img_info['file_name']}) is labelled for '{REFERENCE_TASK}' "
                             'but has no reference')
        for task, (entry_key, _, _) in LABEL_FILE_KEYS.items():
            if task in tasks and not img_info.get(entry_key):
                raise ValueError(f"'{self.ann_file}', image {img_info['img_id']} "
                                 f"({img_info['file_name']}) is labelled for '{task}' but "
                                 f"has no '{entry_key}' file")
        return tasks

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """mmdet's data info plus ``ref_path``, ``seg_path``, ``depth_path``, ``tasks`` and
        the extra image fields."""
        data_info = super().parse_data_info(raw_data_info)
        img_info = raw_data_info['raw_img_info']
        reference = img_info.get('reference')
        data_info['ref_path'] = (osp.join(self.data_prefix['ref'], reference)
                                 if reference else None)
        for entry_key, prefix_key, info_key in LABEL_FILE_KEYS.values():
            name = img_info.get(entry_key)
            data_info[info_key] = (osp.join(self.data_prefix[prefix_key], name)
                                   if name else None)
        # mmdet guesses ``seg_map_path`` from ``file_name`` whenever ``data_prefix`` has
        # 'seg' (now a default): point it at the entry's own class map instead, None
        # without one (what it always was before 'seg' had a default)
        data_info['seg_map_path'] = data_info['seg_path']
        data_info['tasks'] = self._tasks_of(img_info)
        for key in EXTRA_IMAGE_KEYS:
            if key in img_info:
                data_info[key] = img_info[key]
        return data_info

    def _check_files_exist(self, data_list: List[dict]) -> None:
        missing = [path for info in data_list
                   for path in (info['img_path'], info['ref_path'], info['seg_path'],
                                info['depth_path'])
                   if path is not None and not exists(path, backend_args=self.backend_args)]
        if missing:
            shown = ', '.join(missing[:10])
            raise FileNotFoundError(f"'{self.ann_file}': {len(missing)} listed files do not "
                                    f'exist: {shown}' + (' ...' if len(missing) > 10 else ''))

    def filter_data(self) -> List[dict]:
        """mmdet's filter for images labelled for ``det``; partial labels survive.

        With ``filter_empty_gt``, an image without ``det`` in its tasks is kept when it
        is labelled for another task (and passes ``min_size``).
        """
        if self.test_mode or self.filter_cfg is None:
            return self.data_list
        kept_ids = {info['img_id'] for info in super().filter_data()}
        min_size = self.filter_cfg.get('min_size', 0)
        kept = [
            info for info in self.data_list
            if info['img_id'] in kept_ids or self._only_other_tasks(info, min_size)
        ]
        if self.data_list and not kept:
            raise ValueError(f"'{self.ann_file}': filter_cfg={self.filter_cfg} removes all "
                             f'{len(self.data_list)} images')
        return kept

    @staticmethod
    def _only_other_tasks(info: dict, min_size: int) -> bool:
        return (BOXES_TASK not in info['tasks'] and len(info['tasks']) > 0
                and min(info['width'], info['height']) >= min_size)
