"""PASCAL VOC detection in the COCO-with-tasks format of ``data_tools/convert_voc.py``."""
from mmdet.datasets import VOCDataset

from mtlunder.registry import DATASETS
from .underwater import UnderwaterMultiTaskDataset

#: Shown when the annotation file is missing.
VOC_BUILD_HINT = ('convert the VOC devkit with python data_tools/convert_voc.py '
                  'data/VOCdevkit data/voc (see docs/voc_nyud.md)')


@DATASETS.register_module()
class VOCMultiTaskDataset(UnderwaterMultiTaskDataset):
    """VOC 2007/2012 written by ``data_tools/convert_voc.py``: ``images/<id>.jpg``,
    ``segmentation/<id>.png`` where a mask exists and ``annotations/<split>.json``, whose
    image entries carry ``tasks`` (``det``; ``seg`` with a mask). Boxes are xyxy pixels,
    ``difficult`` objects are ``iscrowd`` (ignored in training and evaluation, as in VOC).

    Metainfo: mmdet's VOC classes (20, the json's category names) and palette. Data infos
    and arguments are those of :class:`~mtlunder.datasets.UnderwaterMultiTaskDataset`.
    """

    METAINFO = VOCDataset.METAINFO

    def __init__(self, *args, build_hint: str = VOC_BUILD_HINT, **kwargs) -> None:
        super().__init__(*args, build_hint=build_hint, **kwargs)
