"""COCO json -> validated :class:`DetImage` records (re-indexed on write by ``to_coco``)."""
import json
from pathlib import Path
from typing import List

from .detection import (BOXES_TASK, Box, ClassResolver, DetImage, boxes_record, clip_box,
                        sorted_records)
from .io import DataError, checked_size, progress
from .report import Report


def load_json(path: Path) -> dict:
    """Read a json file, naming it in any error."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f'{path}: file not found')
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise DataError(f'{path}: invalid json ({err})') from err


def read_coco_detection(ann_file: Path, image_root: Path, resolver: ClassResolver,
                        report: Report, keep_unlabelled: bool = False,
                        show_progress: bool = True) -> List[DetImage]:
    """Validate a COCO detection json and return its images as records.

    Checks: required keys, unique image/annotation ids, annotations pointing at existing
    images and categories, 4-number boxes with positive size (clipped to the image), image
    files present and decodable with the stated size. COCO lists its images explicitly, so
    an image without annotations is a background image unless its ``tasks`` omit ``det``.
    An image whose every box is invalid is excluded (``keep_unlabelled``: kept without
    ``det``), see :func:`boxes_record`.
    """
    ann_file, image_root = Path(ann_file), Path(image_root)
    coco = load_json(ann_file)
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(coco.get(key), list):
            raise DataError(f'{ann_file}: missing the "{key}" list')
    cats = {}
    for cat in coco['categories']:
        if 'id' not in cat or 'name' not in cat:
            raise DataError(f'{ann_file}: category entry without id/name: {cat}')
        cats[cat['id']] = cat['name']
    images = {}
    for img in coco['images']:
        missing = [k for k in ('id', 'file_name', 'width', 'height') if k not in img]
        if missing:
            raise DataError(f'{ann_file}: image entry {img} lacks {missing}')
        if img['id'] in images:
            raise DataError(f'{ann_file}: duplicate image id {img["id"]}')
        images[img['id']] = img
    boxes = {i: [] for i in images}
    ann_ids = set()
    for ann in coco['annotations']:
        where = f'{ann_file}: annotation {ann.get("id")}'
        if ann.get('id') in ann_ids:
            raise DataError(f'{where}: duplicate annotation id')
        ann_ids.add(ann.get('id'))
        if ann.get('image_id') not in images:
            raise DataError(f'{where}: image_id {ann.get("image_id")} is not an image')
        if ann.get('category_id') not in cats:
            raise DataError(f'{where}: category_id {ann.get("category_id")} is not a category')
        bbox = ann.get('bbox')
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise DataError(f'{where}: bbox must be [x, y, w, h], got {bbox}')
        boxes[ann['image_id']].append((ann, bbox))
    records = []
    for image_id in progress(sorted(images), desc='COCO', enabled=show_progress):
        img = images[image_id]
        path = image_root / img['file_name']
        size = checked_size(path, report)
        if size is None:
            continue
        if size != (img['width'], img['height']):
            report.add('size_mismatch', f'{path}: json size {img["width"]}x{img["height"]} '
                       f'!= image {size[0]}x{size[1]}; excluded')
            continue
        labelled = BOXES_TASK in img.get('tasks', [BOXES_TASK])
        rec_boxes, invalid = [], 0
        for ann, (x, y, w, h) in boxes[image_id]:
            where = f'{ann_file}: annotation {ann["id"]} ({img["file_name"]})'
            if not labelled:
                raise DataError(f'{where}: image has annotations but "det" is not in its tasks')
            if w <= 0 or h <= 0:
                report.add('invalid_box', f'{where}: non-positive size {[x, y, w, h]}; dropped')
                invalid += 1
                continue
            label = resolver.resolve(cats[ann['category_id']], where, report)
            if label is None:
                continue
            box = clip_box(Box(x, y, w, h, label, bool(ann.get('iscrowd', 0))),
                           size[0], size[1], where, report)
            if box is None:
                invalid += 1
            else:
                rec_boxes.append(box)
        key = str(Path(img['file_name']).with_suffix('').as_posix())
        if not labelled:
            records.append(DetImage(path, key, size[0], size[1], [], labelled=False))
            continue
        record = boxes_record(path, key, size[0], size[1], rec_boxes, invalid,
                              f'{ann_file} ({img["file_name"]})', report, keep_unlabelled)
        if record is not None:
            records.append(record)
    return sorted_records(records, report)
