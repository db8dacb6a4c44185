"""Format-neutral detection records, class-name resolution and the COCO writer.

Box convention: COCO ``[x, y, w, h]`` in pixels, continuous coordinates with the origin at
the top-left corner of the top-left pixel.
"""
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from mtlunder.structures import tasks_of_kind

from .io import DataError
from .report import Report

#: Detection categories of the underwater benchmark (DUO / URPC order, ids 1..4).
#: The task of the boxes and the task of the clean reference in the images' ``tasks``
#: (the task table's ``boxes`` and ``image`` kinds: ``det``, ``enh``).
(BOXES_TASK, ) = tasks_of_kind('boxes')
(REFERENCE_TASK, ) = tasks_of_kind('image')

UNDERWATER_CLASSES = ('holothurian', 'echinus', 'scallop', 'starfish')


@dataclass
class Box:
    """One box: COCO ``[x, y, w, h]`` (pixels), class name, ignore flag (-> ``iscrowd=1``)."""
    x: float
    y: float
    w: float
    h: float
    label: str
    ignore: bool = False


@dataclass
class DetImage:
    """One image of a detection source.

    ``key`` is unique within the source and extension-free (used for output names and
    split hashing); ``labelled`` is False for an image kept without any detection label.
    """
    path: Path
    key: str
    width: int
    height: int
    boxes: List[Box] = field(default_factory=list)
    labelled: bool = True


def parse_class_map(items: Optional[Sequence[str]]) -> Dict[str, str]:
    """``['urchin=echinus', ...]`` -> ``{'urchin': 'echinus'}``."""
    mapping = {}
    for item in items or ():
        src, sep, dst = item.partition('=')
        if not sep or not src.strip() or not dst.strip():
            raise ValueError(f'bad class mapping {item!r}; expected SOURCE=TARGET')
        mapping[src.strip()] = dst.strip()
    return mapping


def read_names_file(path: Path) -> List[str]:
    """Class names from a YOLO ``data.yaml`` (``names`` list or {id: name}) or a text file
    with one name per line."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f'{path}: class names file not found')
    if path.suffix.lower() in ('.yaml', '.yml'):
        import yaml

        data = yaml.safe_load(path.read_text()) or {}
        names = data.get('names') if isinstance(data, dict) else None
        if isinstance(names, dict):
            names = [names[k] for k in sorted(names, key=int)]
        if not isinstance(names, list) or not names:
            raise DataError(f'{path}: no "names" list in the YAML file')
        return [str(n) for n in names]
    names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not names:
        raise DataError(f'{path}: no class names in the file')
    return names


class ClassResolver:
    """Map source class names to target names, refusing (or counting) unknown ones.

    Args:
        classes: the target class list; None collects names from the data.
        mapping: source name -> target name (``--map urchin=echinus``), applied first.
        drop_unknown: drop boxes of unknown classes (counted in the report) instead of
            raising :class:`DataError`.
    """

    def __init__(self, classes: Optional[Sequence[str]] = None,
                 mapping: Optional[Dict[str, str]] = None, drop_unknown: bool = False):
        self.classes = list(classes) if classes is not None else None
        self.mapping = dict(mapping or {})
        self.drop_unknown = drop_unknown
        self.seen: Counter = Counter()
        if self.classes is not None:
            bad = sorted(set(self.mapping.values()) - set(self.classes))
            if bad:
                raise ValueError(f'--map targets {bad} are not in the class list {self.classes}')

    def resolve(self, name: str, where: str, report: Report) -> Optional[str]:
        """Target name of ``name`` found in ``where``; None when dropped."""
        target = self.mapping.get(name, name)
        if self.classes is None or target in self.classes:
            self.seen[target] += 1
            return target
        if self.drop_unknown:
            report.add('unknown_class', f'{where}: dropped a box of unknown class {name!r}')
            return None
        raise DataError(f'{where}: unknown class {name!r} (known: {self.classes}); map it '
                        f'with --map {name}=<class> or pass --drop-unknown')

    def final_classes(self) -> List[str]:
        """The target list, or the sorted names seen in the data."""
        return list(self.classes) if self.classes is not None else sorted(self.seen)


def sorted_records(records: List[DetImage], report: Report) -> List[DetImage]:
    """``records`` sorted by key, with the converted image and box counts added to
    ``report``: the common end of every format reader."""
    records.sort(key=lambda r: r.key)
    report.count('images converted', sum(r.labelled for r in records))
    report.count('boxes converted', sum(len(r.boxes) for r in records))
    return records


def clip_box(box: Box, width: int, height: int, where: str, report: Report) -> Optional[Box]:
    """Clip a box to the image; report clipping, drop (and report) empty boxes."""
    x1, y1 = max(box.x, 0.0), max(box.y, 0.0)
    x2, y2 = min(box.x + box.w, float(width)), min(box.y + box.h, float(height))
    if x2 - x1 <= 0 or y2 - y1 <= 0:
        report.add('invalid_box', f'{where}: box {[box.x, box.y, box.w, box.h]} of '
                   f'{box.label!r} is empty or outside the {width}x{height} image; dropped')
        return None
    if (x1, y1, x2, y2) != (box.x, box.y, box.x + box.w, box.y + box.h):
        report.add('clipped_box', f'{where}: box {[box.x, box.y, box.w, box.h]} of '
                   f'{box.label!r} clipped to the {width}x{height} image')
    return Box(x1, y1, x2 - x1, y2 - y1, box.label, box.ignore)


def boxes_record(path: Path, key: str, width: int, height: int, boxes: List[Box],
                 num_invalid: int, where: str, report: Report,
                 keep_unlabelled: bool = False) -> Optional[DetImage]:
    """The record of an annotated image, unless every box it had was invalid.

    An image whose only boxes were dropped as invalid (empty, outside the image) shows an
    object nobody can locate: with zero boxes it would pass for a background image, a false
    negative label. It loses its ``det`` label instead: excluded (None), or with
    ``keep_unlabelled`` kept with ``labelled=False``; reported (``no_valid_box``, naming
    ``where``) and counted. Boxes dropped for an unknown class do not count as invalid.
    """
    if boxes or not num_invalid:
        return DetImage(path, key, width, height, boxes)
    verb = 'kept without detection labels' if keep_unlabelled else 'excluded'
    report.add('no_valid_box', f'{where}: all {num_invalid} box(es) invalid and dropped; not '
               f'a background image, so {verb}')
    report.count('images whose every box was invalid (no det label)')
    return DetImage(path, key, width, height, [], labelled=False) if keep_unlabelled else None


def to_coco(images: Sequence[DetImage], classes: Sequence[str],
            file_name: Callable[[DetImage], str], extra: Optional[Callable] = None) -> dict:
    """Build a COCO dict (ids from 1) with the benchmark's ``tasks`` per image.

    Args:
        images: the records, written in this order.
        classes: category names; ids are 1..len(classes) in this order.
        file_name: record -> ``file_name`` stored in the json.
        extra: optional record -> dict of additional image-entry keys.
    """
    cat_ids = {name: i + 1 for i, name in enumerate(classes)}
    coco = dict(images=[], annotations=[],
                categories=[dict(id=i, name=n, supercategory='none')
                            for n, i in cat_ids.items()])
    for image_id, rec in enumerate(images, start=1):
        entry = dict(id=image_id, file_name=file_name(rec), width=int(rec.width),
                     height=int(rec.height), tasks=[BOXES_TASK] if rec.labelled else [])
        if extra is not None:
            entry.update(extra(rec))
        coco['images'].append(entry)
        for box in rec.boxes:
            if box.label not in cat_ids:
                raise DataError(f'{rec.path}: class {box.label!r} is not in {list(classes)}')
            coco['annotations'].append(dict(
                id=len(coco['annotations']) + 1, image_id=image_id,
                category_id=cat_ids[box.label],
                bbox=[round(float(v), 3) for v in (box.x, box.y, box.w, box.h)],
                area=round(float(box.w * box.h), 3), iscrowd=int(box.ignore)))
    return coco


def coco_box_counts(coco: dict) -> Counter:
    """Boxes per class name of a COCO dict."""
    names = {c['id']: c['name'] for c in coco['categories']}
    return Counter(names[a['category_id']] for a in coco['annotations'])
