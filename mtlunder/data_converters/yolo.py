"""YOLO txt labels <-> :class:`DetImage` records.

A label line is ``class cx cy w h`` with the centre and size normalised by the image width
and height. Layouts read: ``<root>/images/**/x.jpg`` with ``<root>/labels/**/x.txt``
(Ultralytics), or the txt next to its image (darknet). An empty txt is a background image;
a missing txt is reported and the image excluded (``keep_unlabelled`` keeps it without
detection labels).
"""
from pathlib import Path
from typing import List, Optional, Sequence

from .detection import (BOXES_TASK, Box, ClassResolver, DetImage, boxes_record, clip_box,
                        sorted_records)
from .io import DataError, checked_size, copy_file, is_image_file, progress
from .report import Report
from .voc import image_key, unlabelled_record


def label_path_for(root: Path, image: Path) -> Path:
    """Where the YOLO txt of ``image`` lives (``images`` -> ``labels``, or alongside)."""
    rel = Path(image).relative_to(root)
    parts = list(rel.parts)
    if 'images' in parts[:-1]:
        idx = len(parts) - 2 - parts[:-1][::-1].index('images')
        parts[idx] = 'labels'
    return (root / Path(*parts)).with_suffix('.txt')


def find_names_file(root: Path) -> Optional[Path]:
    """``data.yaml`` / ``dataset.yaml`` / ``classes.txt`` / ``obj.names`` in ``root``."""
    for name in ('data.yaml', 'dataset.yaml', 'classes.txt', 'obj.names'):
        if (Path(root) / name).is_file():
            return Path(root) / name
    return None


def read_yolo_detection(root: Path, names: Sequence[str], resolver: ClassResolver,
                        report: Report, keep_unlabelled: bool = False,
                        show_progress: bool = True) -> List[DetImage]:
    """Read a YOLO dataset.

    Args:
        root: dataset root.
        names: class names indexed by the YOLO class id.
        resolver: mapping / unknown-class policy applied to ``names[id]``.
        report: collects skips, each naming its file.
        keep_unlabelled: keep images without a txt, or whose every box is invalid
            (``labelled=False``).
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f'{root}: dataset folder not found')
    images = sorted(p for p in root.rglob('*') if p.is_file() and is_image_file(p)
                    and 'labels' not in p.relative_to(root).parts)
    if not images:
        raise DataError(f'{root}: no images found')
    label_files = set()
    records = []
    for path in progress(images, desc='YOLO', enabled=show_progress):
        txt = label_path_for(root, path)
        if not txt.is_file():
            verb = 'kept without detection labels' if keep_unlabelled else 'excluded'
            report.add('missing_annotation', f'{path}: no label file {txt}; {verb}')
            if keep_unlabelled:
                record = unlabelled_record(root, path, report)
                if record is not None:
                    records.append(record)
            continue
        label_files.add(txt)
        size = checked_size(path, report)
        if size is None:
            continue
        width, height = size
        boxes, invalid = [], 0
        for line_no, line in enumerate(txt.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            where = f'{txt}:{line_no}'
            fields = line.split()
            if len(fields) != 5:
                raise DataError(f'{where}: expected "class cx cy w h", got {line!r}')
            try:
                cls, values = int(fields[0]), [float(v) for v in fields[1:]]
            except ValueError as err:
                raise DataError(f'{where}: not numbers: {line!r}') from err
            if not 0 <= cls < len(names):
                raise DataError(f'{where}: class id {cls} outside 0..{len(names) - 1}')
            cx, cy, w, h = values
            if w <= 0 or h <= 0 or not all(-0.01 <= v <= 1.01 for v in values):
                report.add('invalid_box', f'{where}: normalised values {values} out of '
                           '[0, 1] or empty; dropped')
                invalid += 1
                continue
            label = resolver.resolve(names[cls], where, report)
            if label is None:
                continue
            box = Box((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height, label)
            box = clip_box(box, width, height, where, report)
            if box is None:
                invalid += 1
            else:
                boxes.append(box)
        record = boxes_record(path, image_key(root, path), width, height, boxes, invalid,
                              str(txt), report, keep_unlabelled)
        if record is not None:
            records.append(record)
    for txt in sorted(root.rglob('*.txt')):
        if 'labels' in txt.relative_to(root).parts and txt not in label_files \
                and txt.name != 'classes.txt':
            report.add('orphan_annotation', f'{txt}: label file without an image; ignored')
    for other in sorted(p for p in root.rglob('*') if p.is_file()
                        and 'labels' in p.relative_to(root).parts and p.suffix != '.txt'):
        report.add('not_annotation', f'{other}: not a txt label file in a labels folder; '
                   'ignored')
    return sorted_records(records, report)


def write_yolo(coco: dict, image_root: Path, out_dir: Path, show_progress: bool = True) -> None:
    """Write a COCO dict as a YOLO dataset: ``images/``, ``labels/``, ``data.yaml``.

    ``iscrowd`` boxes are written too (YOLO has no ignore flag); images without ``det`` in
    ``tasks`` get no label file. Image files are copied from ``image_root``.
    """
    import yaml

    out_dir = Path(out_dir)
    cats = sorted(coco['categories'], key=lambda c: c['id'])
    index = {c['id']: i for i, c in enumerate(cats)}
    by_image = {}
    for ann in coco['annotations']:
        by_image.setdefault(ann['image_id'], []).append(ann)
    for img in progress(coco['images'], desc='YOLO export', enabled=show_progress):
        rel = Path(img['file_name'])
        copy_file(Path(image_root) / rel, out_dir / 'images' / rel)
        if BOXES_TASK not in img.get('tasks', [BOXES_TASK]):
            continue
        w, h = float(img['width']), float(img['height'])
        lines = []
        for ann in by_image.get(img['id'], []):
            x, y, bw, bh = ann['bbox']
            lines.append(f'{index[ann["category_id"]]} {(x + bw / 2) / w:.6f} '
                         f'{(y + bh / 2) / h:.6f} {bw / w:.6f} {bh / h:.6f}')
        label = (out_dir / 'labels' / rel).with_suffix('.txt')
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text(''.join(line + '\n' for line in lines))
    (out_dir / 'data.yaml').write_text(yaml.safe_dump(
        dict(path='.', train='images', val='images', names=[c['name'] for c in cats]),
        sort_keys=False))
