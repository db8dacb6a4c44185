"""Check a written dataset (underwater benchmark or dense format) file by file."""
from pathlib import Path

import numpy as np

from .underwater_benchmark import read_benchmark
from .coco import load_json
from .dense import DENSE_LAYOUT, IGNORE_INDEX
from .detection import BOXES_TASK, REFERENCE_TASK
from .io import DataError, image_size, progress, read_label_map
from .report import Report


def dataset_kind(root: Path) -> str:
    """``'benchmark'`` (annotations/*.json without meta.json) or ``'dense'`` (meta.json)."""
    root = Path(root)
    if (root / 'meta.json').is_file() and (root / 'splits').is_dir():
        return 'dense'
    if (root / 'annotations').is_dir():
        return 'benchmark'
    raise DataError(f'{root}: neither a benchmark (annotations/) nor a dense dataset '
                    '(meta.json + splits/)')


def check_dataset(root: Path, show_progress: bool = True) -> Report:
    """Every image decodes, every label exists and is in range, boxes lie inside their
    image, pairs match. Problems are ``error`` issues naming the file."""
    root = Path(root)
    kind = dataset_kind(root)
    report = Report(f'check {kind} {root}')
    if kind == 'benchmark':
        _check_benchmark(root, report, show_progress)
    else:
        _check_dense(root, report, show_progress)
    return report


def _size_or_error(path: Path, report: Report):
    try:
        return image_size(path)
    except DataError as err:
        report.add('error', str(err))
        return None


def _check_benchmark(root: Path, report: Report, show_progress: bool) -> None:
    images, anns, categories = read_benchmark(root)
    cat_ids = {c['id'] for c in categories}
    names = set()
    for img in progress(images, desc='check', enabled=show_progress):
        where = f'{root}/annotations/{img["split"]}.json: image {img.get("id")} ' \
                f'({img.get("file_name")})'
        if img.get('file_name') in names:
            report.add('error', f'{where}: file listed twice')
        names.add(img.get('file_name'))
        tasks = img.get('tasks')
        if not isinstance(tasks, list):
            report.add('error', f'{where}: no "tasks" list')
            continue
        report.count(f'images {img["split"]}')
        for task in tasks:
            report.count(f'task {task}')
        size = _size_or_error(root / 'images' / img['file_name'], report)
        if size is not None and size != (img['width'], img['height']):
            report.add('error', f'{where}: json size {img["width"]}x{img["height"]} != file '
                       f'{size[0]}x{size[1]}')
        ref = img.get('reference')
        if (REFERENCE_TASK in tasks) != bool(ref):
            report.add('error', f'{where}: "{REFERENCE_TASK}" in tasks must go with a reference '
                       f'(tasks {tasks}, reference {ref!r})')
        if ref:
            ref_size = _size_or_error(root / 'references' / ref, report)
            if ref_size is not None and ref_size != (img['width'], img['height']):
                report.add('error', f'{where}: reference {ref} is {ref_size[0]}x{ref_size[1]}, '
                           f'input {img["width"]}x{img["height"]}')
        _check_boxes(where, img, anns.get(img['id'], []), cat_ids, report)


def _check_boxes(where: str, img: dict, boxes: list, cat_ids: set, report: Report) -> None:
    """Boxes need ``det`` in the image's tasks, a known category, positive size and to lie
    inside the image (half a pixel of tolerance)."""
    if boxes and BOXES_TASK not in img.get('tasks', [BOXES_TASK]):
        report.add('error', f'{where}: has boxes but "{BOXES_TASK}" is not in its tasks')
    for ann in boxes:
        report.count('boxes')
        x, y, w, h = ann['bbox']
        if ann['category_id'] not in cat_ids:
            report.add('error', f'{where}: annotation {ann["id"]} has unknown category '
                       f'{ann["category_id"]}')
        if w <= 0 or h <= 0 or x < -0.5 or y < -0.5 or x + w > img['width'] + 0.5 \
                or y + h > img['height'] + 0.5:
            report.add('error', f'{where}: annotation {ann["id"]} box {ann["bbox"]} is '
                       f'empty or outside the {img["width"]}x{img["height"]} image')


def _check_dense(root: Path, report: Report, show_progress: bool) -> None:
    meta = load_json(root / 'meta.json')
    limits = dict(seg=len(meta['seg_classes']) if meta.get('seg_classes') else IGNORE_INDEX,
                  parts=len(meta['parts_classes']) if meta.get('parts_classes') else
                  IGNORE_INDEX, edge=2, sal=2)
    ids = []
    for split_file in sorted((root / 'splits').glob('*.txt')):
        split_ids = split_file.read_text().split()
        report.count(f'split {split_file.stem}', len(split_ids))
        ids.extend(split_ids)
    for ann_file in sorted((root / 'annotations').glob('*.json')):
        coco = load_json(ann_file)
        cat_ids = {c['id'] for c in coco['categories']}
        per_image = {}
        for ann in coco['annotations']:
            per_image.setdefault(ann['image_id'], []).append(ann)
        for img in coco['images']:
            where = f'{ann_file}: image {img["id"]} ({img["file_name"]})'
            path = root / 'images' / img['file_name']
            if Path(img['file_name']).stem not in ids:
                report.add('error', f'{where}: not listed in splits/')
            elif not path.is_file():
                report.add('error', f'{where}: {path} missing')
            else:
                try:
                    size = image_size(path)
                except DataError:
                    size = None  # reported by the per-sample checks below
                if size is not None and size != (img['width'], img['height']):
                    report.add('error', f'{where}: json size {img["width"]}x{img["height"]} '
                               f'!= image {size[0]}x{size[1]}')
            _check_boxes(where, img, per_image.get(img['id'], []), cat_ids, report)
    for sid in progress(sorted(set(ids)), desc='check', enabled=show_progress):
        image = next((root / 'images' / f'{sid}{e}' for e in ('.jpg', '.png')
                      if (root / 'images' / f'{sid}{e}').is_file()), None)
        if image is None:
            report.add('error', f'{root}/images/{sid}.(jpg|png): missing')
            continue
        size = _size_or_error(image, report)
        if size is None:
            continue
        hw = (size[1], size[0])
        for task, (folder, suffix) in DENSE_LAYOUT.items():
            path = root / folder / f'{sid}{suffix}'
            if not path.is_file():
                continue
            report.count(f'labels {task}')
            try:
                value = np.load(path) if suffix == '.npy' else read_label_map(path)
            except (DataError, ValueError, OSError) as err:
                report.add('error', f'{path}: unreadable ({err})')
                continue
            want = hw + ((3,) if task == 'normal' else ())
            if value.shape != want:
                report.add('error', f'{path}: shape {value.shape} != image {want}')
            elif task in ('depth', 'normal'):
                if not np.all(np.isfinite(value)) or (task == 'depth' and value.min() < 0):
                    report.add('error', f'{path}: NaN/inf or negative values')
            else:
                ignored = (value == IGNORE_INDEX) & (task in ('seg', 'parts'))
                bad = (value >= limits[task]) & ~ignored
                if bad.any():
                    report.add('error', f'{path}: values {np.unique(value[bad])[:10].tolist()} '
                               f'out of range 0..{limits[task] - 1}')
