"""Pascal VOC xml detection annotations -> :class:`DetImage` records.

Coordinates: VOC stores 1-based inclusive pixel indices, so pixel columns
``xmin..xmax`` become COCO ``x = xmin - 1, w = xmax - xmin + 1`` (same for y).
``difficult=1`` boxes are kept with ``ignore=True`` (``iscrowd=1``). The image is found from
``<filename>`` inside the sibling ``JPEGImages`` folder (never the Windows ``<path>``), and
the xml size is checked against the decoded image.
"""
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import List, Optional

from .detection import Box, ClassResolver, DetImage, boxes_record, clip_box, sorted_records
from .io import DataError, checked_size, is_image_file, progress
from .report import Report


def find_voc_folders(root: Path) -> List[Path]:
    """Folders under ``root`` (itself included) holding ``Annotations/`` and ``JPEGImages/``."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f'{root}: dataset folder not found')
    found = sorted(p.parent for p in root.rglob('Annotations')
                   if p.is_dir() and (p.parent / 'JPEGImages').is_dir())
    if not found:
        raise DataError(f'{root}: no folder with both Annotations/ and JPEGImages/ found')
    return found


def _number(node, tag: str, xml_path: Path) -> float:
    child = node.find(tag)
    if child is None or child.text is None:
        raise DataError(f'{xml_path}: <{tag}> missing')
    try:
        return float(child.text)
    except ValueError as err:
        raise DataError(f'{xml_path}: <{tag}> is not a number: {child.text!r}') from err


def parse_voc_xml(xml_path: Path) -> dict:
    """Parse one VOC xml: ``filename``, ``width``, ``height`` and ``objects``
    (``name``, ``difficult``, ``xmin``, ``ymin``, ``xmax``, ``ymax``)."""
    try:
        tree = ET.parse(xml_path)
    except ET.ParseError as err:
        raise DataError(f'{xml_path}: not a valid xml file ({err})') from err
    root = tree.getroot()
    size = root.find('size')
    objects = []
    for obj in root.findall('object'):
        name = (obj.findtext('name') or '').strip()
        if not name:
            raise DataError(f'{xml_path}: an <object> has no <name>')
        bnd = obj.find('bndbox')
        if bnd is None:
            raise DataError(f'{xml_path}: object {name!r} has no <bndbox>')
        objects.append(dict(
            name=name, difficult=int(float(obj.findtext('difficult') or 0)) == 1,
            **{k: _number(bnd, k, xml_path) for k in ('xmin', 'ymin', 'xmax', 'ymax')}))
    return dict(filename=(root.findtext('filename') or '').strip(),
                width=int(_number(size, 'width', xml_path)) if size is not None else 0,
                height=int(_number(size, 'height', xml_path)) if size is not None else 0,
                objects=objects)


def _find_image(img_dir: Path, filename: str, stem: str, xml_path: Path,
                report: Report) -> Optional[Path]:
    if filename and (img_dir / Path(filename).name).is_file():
        return img_dir / Path(filename).name
    candidates = sorted(p for p in img_dir.glob(f'{stem}.*') if is_image_file(p))
    if candidates:
        if filename:
            report.add('filename_mismatch', f'{xml_path}: <filename> {filename!r} not found; '
                       f'using {candidates[0].name} (same stem)')
        return candidates[0]
    report.add('orphan_annotation', f'{xml_path}: image {filename or stem!r} not found in '
               f'{img_dir}; annotation skipped')
    return None


def read_voc_detection(root: Path, resolver: ClassResolver, report: Report,
                       keep_unlabelled: bool = False,
                       show_progress: bool = True) -> List[DetImage]:
    """Read every VOC-layout folder under ``root``.

    Args:
        root: dataset root; each folder with ``Annotations/`` + ``JPEGImages/`` is read.
        resolver: class-name mapping and unknown-class policy.
        report: collects skipped files (each named) and counts.
        keep_unlabelled: keep images without an xml, or whose every box is invalid, as
            records with ``labelled=False`` (no detection label at all); by default they
            are reported and excluded.

    Returns:
        Records sorted by key; key = image path relative to ``root`` without the
        ``JPEGImages`` component and extension (e.g. ``pic_A/259``).
    """
    root = Path(root)
    records = []
    for folder in find_voc_folders(root):
        ann_dir, img_dir = folder / 'Annotations', folder / 'JPEGImages'
        images = {p.name: p for p in img_dir.iterdir() if p.is_file() and is_image_file(p)}
        claimed = set()
        ann_files = sorted(p for p in ann_dir.iterdir() if p.is_file())
        for ann in progress(ann_files, desc=f'VOC {folder.name}', enabled=show_progress):
            if ann.suffix.lower() != '.xml':
                what = 'an image' if is_image_file(ann) else 'not an xml file'
                report.add('not_annotation', f'{ann}: {what} in an annotations folder; ignored')
                continue
            parsed = parse_voc_xml(ann)
            image_path = _find_image(img_dir, parsed['filename'], ann.stem, ann, report)
            if image_path is None:
                continue
            if image_path.name in claimed:
                report.add('duplicate_annotation', f'{ann}: {image_path.name} already has an '
                           'annotation file; skipped')
                continue
            claimed.add(image_path.name)
            record = _make_record(root, image_path, parsed, ann, resolver, report,
                                  keep_unlabelled)
            if record is not None:
                records.append(record)
        for name in sorted(set(images) - claimed):
            path = images[name]
            if keep_unlabelled:
                report.add('missing_annotation', f'{path}: no annotation file in {ann_dir}; '
                           'kept without detection labels')
                record = unlabelled_record(root, path, report)
                if record is not None:
                    records.append(record)
            else:
                report.add('missing_annotation', f'{path}: no annotation file in {ann_dir}; '
                           'excluded')
    return sorted_records(records, report)


def image_key(root: Path, path: Path) -> str:
    """Image path relative to ``root`` without extension and ``JPEGImages``/``images`` parts."""
    rel = Path(path).relative_to(root).with_suffix('')
    parts = [p for p in rel.parts if p not in ('JPEGImages', 'images')]
    return '/'.join(parts)


def unlabelled_record(root: Path, path: Path, report: Report) -> Optional[DetImage]:
    """Record of an image kept without detection labels (None if it does not decode)."""
    size = checked_size(path, report)
    if size is None:
        return None
    return DetImage(path, image_key(root, path), size[0], size[1], [], labelled=False)


def _make_record(root: Path, image_path: Path, parsed: dict, xml_path: Path,
                 resolver: ClassResolver, report: Report,
                 keep_unlabelled: bool = False) -> Optional[DetImage]:
    size = checked_size(image_path, report)
    if size is None:
        return None
    width, height = size
    if parsed['width'] and parsed['height'] and (parsed['width'], parsed['height']) != size:
        report.add('size_mismatch', f'{xml_path}: xml size {parsed["width"]}x'
                   f'{parsed["height"]} != image {image_path.name} {width}x{height}; excluded')
        return None
    boxes, invalid = [], 0
    for obj in parsed['objects']:
        label = resolver.resolve(obj['name'], str(xml_path), report)
        if label is None:
            continue
        box = Box(obj['xmin'] - 1, obj['ymin'] - 1, obj['xmax'] - obj['xmin'] + 1,
                  obj['ymax'] - obj['ymin'] + 1, label, obj['difficult'])
        box = clip_box(box, width, height, str(xml_path), report)
        if box is None:
            invalid += 1
        else:
            boxes.append(box)
    return boxes_record(image_path, image_key(root, image_path), width, height, boxes, invalid,
                        str(xml_path), report, keep_unlabelled)
