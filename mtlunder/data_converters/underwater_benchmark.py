"""Build the multi-task underwater benchmark from detection, paired, RGB-D and synthetic
sources (METHODS.md section 4).

On disk::

    <out>/images/<source>/<key>.(jpg|png)       input (real or rendered underwater image)
    <out>/references/<source>/<key>.png         clean reference, only where one exists
    <out>/annotations/{train,val,test}.json     COCO; image entries carry ``tasks``,
                                                ``reference``, ``source`` (+ formation info)
    <out>/build_report.json                     sources, skipped files, counts

Each image carries only the labels it really has: detection sources give ``det``, pairs
and rendered frames give ``enh``. The split of an image is a hash of ``<source>/<key>``, so it
does not depend on the other sources, on their order or on the machine.
"""
import hashlib
import json
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from mtlunder.structures import TASK_SPECS

from .detection import (BOXES_TASK, REFERENCE_TASK, UNDERWATER_CLASSES, Box, ClassResolver,
                        DetImage, to_coco)
from .io import DataError, copy_file, progress, read_rgb, write_png
from .output import atomic_dir, check_output
from .report import Report, format_table

SPLIT_NAMES = ('train', 'val', 'test')
DET_FORMATS = ('voc', 'yolo', 'coco')


@dataclass
class SourceSpec:
    """A source: ``name`` (output prefix), ``kind`` (voc|yolo|coco|pairs layout|rgbd) and
    ``path``; ``extra`` holds a YOLO names file or a COCO image root."""
    name: str
    kind: str
    path: Path
    extra: Optional[Path] = None

    @classmethod
    def parse(cls, text: str, kinds: Sequence[str]) -> 'SourceSpec':
        """``NAME:KIND:PATH[:EXTRA]`` (KIND optional when only one kind is allowed)."""
        parts = text.split(':')
        if len(kinds) == 1 and len(parts) == 2:
            parts = [parts[0], kinds[0], parts[1]]
        if len(parts) not in (3, 4) or not parts[0] or parts[1] not in kinds:
            raise ValueError(f'bad source {text!r}; expected NAME:KIND:PATH[:EXTRA] with KIND '
                             f'in {list(kinds)}')
        return cls(parts[0], parts[1], Path(parts[2]), Path(parts[3]) if len(parts) == 4
                   else None)


ImageSource = Union[Path, Callable[[], np.ndarray]]


@dataclass
class BenchmarkItem:
    """One image of the benchmark before writing (image/reference: a file or a loader;
    ``info``: called after both are written, returns extra image-entry keys)."""
    source: str
    key: str
    width: int
    height: int
    tasks: List[str]
    image: ImageSource
    reference: Optional[ImageSource] = None
    resize_reference: bool = False
    boxes: List[Box] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    info: Optional[Callable[[], dict]] = None


def split_of(source: str, key: str, fractions: Sequence[float]) -> str:
    """Deterministic split of ``<source>/<key>``: sha1 -> uniform in [0, 1) -> fraction bin."""
    if len(fractions) not in (2, 3) or any(f < 0 for f in fractions) \
            or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f'split fractions must be 2 or 3 non-negative numbers summing to 1, '
                         f'got {list(fractions)}')
    digest = hashlib.sha1(f'{source}/{key}'.encode()).hexdigest()
    u = int(digest[:15], 16) / 16**15
    edge = 0.0
    for name, frac in zip(SPLIT_NAMES, fractions):
        edge += frac
        if u < edge:
            return name
    return SPLIT_NAMES[len(fractions) - 1]


def read_detection_source(spec: SourceSpec, resolver: ClassResolver, report: Report,
                          keep_unlabelled: bool = False,
                          show_progress: bool = True) -> List[DetImage]:
    """Records of a voc / yolo / coco source (``spec.extra``: names file / image root)."""
    from .coco import read_coco_detection
    from .detection import read_names_file
    from .voc import read_voc_detection
    from .yolo import find_names_file, read_yolo_detection

    if spec.kind == 'voc':
        return read_voc_detection(spec.path, resolver, report, keep_unlabelled=keep_unlabelled,
                                  show_progress=show_progress)
    if spec.kind == 'yolo':
        names_file = spec.extra or find_names_file(spec.path)
        if names_file is None:
            raise DataError(f'{spec.path}: no data.yaml / classes.txt / obj.names; pass the '
                            'class names file')
        return read_yolo_detection(spec.path, read_names_file(names_file), resolver, report,
                                   keep_unlabelled=keep_unlabelled, show_progress=show_progress)
    if spec.kind == 'coco':
        image_root = spec.extra or spec.path.parent
        return read_coco_detection(spec.path, image_root, resolver, report,
                                   keep_unlabelled=keep_unlabelled, show_progress=show_progress)
    raise ValueError(f'unknown detection format {spec.kind!r}; expected {DET_FORMATS}')


def read_benchmark(root: Path) -> Tuple[List[dict], Dict[int, List[dict]], List[dict]]:
    """Read a benchmark's annotations: (image entries with ``split``, annotations per image
    id, categories). Image ids must be unique over all splits."""
    root = Path(root)
    ann_dir = root / 'annotations'
    files = sorted(ann_dir.glob('*.json')) if ann_dir.is_dir() else []
    if not files:
        raise DataError(f'{root}: no annotations/*.json')
    from .coco import load_json

    images, anns, categories = [], defaultdict(list), None
    seen = {}
    for path in files:
        coco = load_json(path)
        for key in ('images', 'annotations', 'categories'):
            if not isinstance(coco.get(key), list):
                raise DataError(f'{path}: missing the "{key}" list')
        if categories is None:
            categories = coco['categories']
        elif coco['categories'] != categories:
            raise DataError(f'{path}: categories differ from {files[0].name}')
        for img in coco['images']:
            if img.get('id') in seen:
                raise DataError(f'{path}: image id {img.get("id")} also in {seen[img["id"]]}')
            seen[img.get('id')] = path.name
            images.append(dict(img, split=path.stem))
        for ann in coco['annotations']:
            anns[ann.get('image_id')].append(ann)
    return images, anns, categories


def _benchmark_items(root: Path, source: str, classes: Sequence[str]) -> List[BenchmarkItem]:
    """Items of an existing benchmark folder (e.g. the synthetic generator's output)."""
    images, anns, categories = read_benchmark(root)
    names = {c['id']: c['name'] for c in categories}
    items = []
    for img in images:
        boxes = []
        for ann in anns.get(img['id'], []):
            label = names.get(ann['category_id'])
            if label not in classes:
                raise DataError(f'{root}: class {label!r} of image {img["file_name"]} is not '
                                f'in {list(classes)}')
            boxes.append(Box(*ann['bbox'], label=label, ignore=bool(ann.get('iscrowd', 0))))
        meta = {k: img[k] for k in ('water_type', 'depth_below_surface', 'range_min',
                                    'range_mean', 'range_max') if k in img}
        ref = img.get('reference')
        # the benchmark carries boxes and references only: the generator's per-pixel
        # labels (seg, depth) stay behind, and so do their task names
        tasks = [t for t in img.get('tasks', []) if TASK_SPECS[t].kind in ('boxes', 'image')]
        items.append(BenchmarkItem(
            source, Path(img['file_name']).with_suffix('').as_posix(), img['width'],
            img['height'], tasks, root / 'images' / img['file_name'],
            root / 'references' / ref if ref else None, boxes=boxes, meta=meta))
    return items


class _RenderedFrame:
    """Renders an RGB-D frame through water once; serves input, reference, then info."""

    def __init__(self, frame, water_types: Sequence[str], seed: int):
        self.frame, self.water_types, self.seed = frame, water_types, seed
        self._out = None

    def _rendered(self):
        from .rgbd import render_underwater

        if self._out is None:
            self._out = render_underwater(self.frame, self.water_types, self.seed)
        return self._out

    def image(self) -> np.ndarray:
        return self._rendered()[0]

    def reference(self) -> np.ndarray:
        return self._rendered()[1]

    def info(self) -> dict:
        info = self._rendered()[2]
        self._out = None  # release the pixels
        return {k: info[k] for k in ('water_type', 'depth_below_surface', 'range_min',
                                     'range_mean', 'range_max')}


def _rgbd_items(spec: SourceSpec, water_types: Sequence[str], seed: int,
                report: Report) -> List[BenchmarkItem]:
    from .rgbd import find_rgbd_frames, read_rgbd

    items = []
    for frame in find_rgbd_frames(spec.path):
        try:
            image, _ = read_rgbd(frame)
        except DataError as err:
            report.add('corrupt_image', f'{err}; frame skipped')
            continue
        rendered = _RenderedFrame(frame, water_types, seed)
        items.append(BenchmarkItem(spec.name, frame.key, image.shape[1], image.shape[0],
                                   [REFERENCE_TASK], image=rendered.image,
                                   reference=rendered.reference,
                                   info=rendered.info))
    report.count(f'rgbd frames ({spec.name})', len(items))
    return items


def _write_image(src: ImageSource, dst_stem: Path, root: Path) -> str:
    """Write an input image (copy JPEG/PNG bytes, else PNG); return the path under root."""
    if isinstance(src, Path) and src.suffix.lower() in ('.jpg', '.jpeg', '.png'):
        dst = dst_stem.parent / (dst_stem.name + ('.png' if src.suffix.lower() == '.png'
                                                  else '.jpg'))
        copy_file(src, dst)
    else:
        dst = dst_stem.parent / (dst_stem.name + '.png')
        write_png(dst, read_rgb(src) if isinstance(src, Path) else src())
    return dst.relative_to(root).as_posix()


def _write_reference(item: BenchmarkItem, dst: Path) -> None:
    src = item.reference
    if isinstance(src, Path) and src.suffix.lower() == '.png' and not item.resize_reference:
        copy_file(src, dst)
        return
    ref = read_rgb(src) if isinstance(src, Path) else src()
    if ref.shape[:2] != (item.height, item.width):
        if not item.resize_reference:
            raise DataError(f'{src}: reference {ref.shape[1]}x{ref.shape[0]} != input '
                            f'{item.width}x{item.height}')
        import cv2

        shrink = ref.shape[0] * ref.shape[1] > item.width * item.height
        ref = cv2.resize(ref, (item.width, item.height),
                         interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
    write_png(dst, ref)


def build_underwater_benchmark(out_dir: Path,
                               det_sources: Sequence[SourceSpec] = (),
                               enh_sources: Sequence[SourceSpec] = (),
                               rgbd_sources: Sequence[SourceSpec] = (),
                               synthetic: int = 0,
                               synthetic_size: int = 256,
                               split: Sequence[float] = (0.8, 0.1, 0.1),
                               classes: Sequence[str] = UNDERWATER_CLASSES,
                               class_map: Optional[Dict[str, str]] = None,
                               drop_unknown: bool = False,
                               keep_unlabelled: bool = False,
                               resize_reference: bool = False,
                               water_types: Optional[Sequence[str]] = None,
                               seed: int = 0,
                               overwrite: bool = False,
                               show_progress: bool = True) -> Report:
    """Combine sources into one benchmark at ``out_dir`` (written atomically).

    Args:
        out_dir: output folder; an existing one is replaced only with ``overwrite`` and
            only when it is an mtlunder dataset (see :mod:`.output`); one holding a source
            is refused.
        det_sources: ``voc``/``yolo``/``coco`` sources (task ``det``).
        enh_sources: pair sources, ``kind`` = pair layout (task ``enh``).
        rgbd_sources: in-air RGB-D roots rendered through the formation model (``enh``).
        synthetic: number of images from the synthetic generator (``det`` + ``enh``).
        synthetic_size: side in pixels of the synthetic images.
        split: train/val[/test] fractions.
        classes: detection categories (ids 1..K in this order).
        class_map: source class -> category (``{'urchin': 'echinus'}``).
        drop_unknown: drop boxes of unknown classes (counted) instead of failing.
        keep_unlabelled: keep detection images lacking an annotation file, without ``det``.
        resize_reference: resize mismatched references to their input instead of skipping.
        water_types: Jerlov types drawn for rendered RGB-D frames (default: the synthetic
            generator's ``DEFAULT_WATER_TYPES``).
        seed: seed of the RGB-D rendering and the synthetic generator.

    Returns:
        The report (skips, counts, ``report.tables`` with the summary tables).
    """
    report = Report(f'underwater benchmark {Path(out_dir).name}')
    split_of('', '', split)  # validates the fractions before any work
    names = [s.name for s in (*det_sources, *enh_sources, *rgbd_sources)]
    if synthetic:
        names.append('synthetic')
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f'source names must be unique, repeated: {dupes}')
    if not names:
        raise ValueError('no source given')
    specs = (*det_sources, *enh_sources, *rgbd_sources)
    inputs = [p for s in specs for p in (s.path, s.extra)]
    check_output(out_dir, overwrite, inputs)  # before reading the sources
    resolver = ClassResolver(classes, class_map, drop_unknown)
    items: List[BenchmarkItem] = []
    for spec in det_sources:
        sub = Report(spec.name)
        for rec in read_detection_source(spec, resolver, sub, keep_unlabelled, show_progress):
            items.append(BenchmarkItem(spec.name, rec.key, rec.width, rec.height,
                                       [BOXES_TASK] if rec.labelled else [], rec.path,
                                       boxes=rec.boxes))
        report.merge(_prefixed(sub, spec.name))
    for spec in enh_sources:
        from .pairs import read_pairs

        sub = Report(spec.name)
        for pair in read_pairs(spec.path, sub, spec.kind, resize_reference, show_progress):
            items.append(BenchmarkItem(spec.name, pair.key, pair.width, pair.height,
                                       [REFERENCE_TASK], pair.input_path, pair.reference_path,
                                       pair.resize_reference))
        report.merge(_prefixed(sub, spec.name))
    if rgbd_sources and water_types is None:
        from mtlunder.synthesis import DEFAULT_WATER_TYPES

        water_types = DEFAULT_WATER_TYPES
    for spec in rgbd_sources:
        items.extend(_rgbd_items(spec, water_types, seed, report))

    with atomic_dir(out_dir, overwrite, tool='build_underwater_benchmark',
                    inputs=inputs) as tmp:
        if synthetic:
            from mtlunder.synthesis.generator import generate_benchmark

            synth_root = tmp / '.synthetic'
            generate_benchmark(synth_root, num_images=synthetic,
                               size=(synthetic_size, synthetic_size), seed=seed,
                               verbose=show_progress)
            items.extend(_benchmark_items(synth_root, 'synthetic', classes))
        keys = Counter((it.source, it.key) for it in items)
        repeated = [f'{s}/{k}' for (s, k), n in keys.items() if n > 1]
        if repeated:
            raise DataError(f'duplicate image names within a source: {repeated[:10]}')
        items.sort(key=lambda it: (it.source, it.key))
        per_split = defaultdict(list)
        for it in items:
            per_split[split_of(it.source, it.key, split)].append(it)
        entries = {}
        for it in progress(items, desc='writing', enabled=show_progress):
            file_name = _write_image(it.image, tmp / 'images' / it.source / it.key, tmp / 'images')
            reference = None
            if it.reference is not None:
                reference = f'{it.source}/{it.key}.png'
                _write_reference(it, tmp / 'references' / reference)
            meta = dict(it.meta, **(it.info() if it.info is not None else {}))
            entries[id(it)] = dict(file_name=file_name, reference=reference, source=it.source,
                                   **meta)
        if synthetic:
            shutil.rmtree(tmp / '.synthetic')
        (tmp / 'annotations').mkdir()
        next_image, next_ann = 1, 1
        for name in SPLIT_NAMES[:len(split)]:
            recs = [DetImage(Path(entries[id(it)]['file_name']), it.key, it.width, it.height,
                             it.boxes, BOXES_TASK in it.tasks) for it in per_split[name]]
            coco = to_coco(recs, classes, file_name=lambda r: r.path.as_posix())
            for entry, it in zip(coco['images'], per_split[name]):
                old_id = entry['id']
                entry.update(entries[id(it)], tasks=list(it.tasks), id=old_id + next_image - 1)
            for ann in coco['annotations']:
                ann['image_id'] += next_image - 1
                ann['id'] += next_ann - 1
            next_image += len(coco['images'])
            next_ann += len(coco['annotations'])
            (tmp / 'annotations' / f'{name}.json').write_text(json.dumps(coco))
        report.tables = _summary_tables(items, per_split, split, classes)
        (tmp / 'build_report.json').write_text(json.dumps(
            dict(sources=[dict(name=s.name, kind=s.kind, path=str(s.path))
                          for s in (*det_sources, *enh_sources, *rgbd_sources)],
                 synthetic=synthetic, split=list(split), seed=seed, **report.to_dict()),
            indent=1))
    return report


def _prefixed(sub: Report, name: str) -> Report:
    out = Report(sub.title)
    for kind, messages in sub.issues.items():
        out.issues[kind].extend(f'[{name}] {m}' for m in messages)
    out.counts.update({f'{k} ({name})': v for k, v in sub.counts.items()})
    return out


def _summary_tables(items, per_split, split, classes) -> str:
    splits = SPLIT_NAMES[:len(split)]
    sources = sorted({it.source for it in items})
    rows = []
    for src in sources:
        row = [src] + [sum(it.source == src for it in per_split[s]) for s in splits]
        tasks = Counter(t for it in items if it.source == src for t in it.tasks)
        row += [sum(it.source == src for it in items),
                ' '.join(f'{t}:{n}' for t, n in sorted(tasks.items())) or '-',
                sum(len(it.boxes) for it in items if it.source == src)]
        rows.append(row)
    rows.append(['total', *(len(per_split[s]) for s in splits), len(items), '',
                 sum(len(it.boxes) for it in items)])
    table = format_table(['source', *splits, 'images', 'tasks', 'boxes'], rows)
    class_rows = [[c] + [sum(b.label == c for it in per_split[s] for b in it.boxes)
                         for s in splits] for c in classes]
    return table + '\n\n' + format_table(['class', *splits], class_rows)
