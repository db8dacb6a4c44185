"""PASCAL VOC 2007/2012 (detection + segmentation) and PASCAL-Context in the PASCAL_MT
layout -> dense format.

VOC: ``VOC20xx/{JPEGImages,Annotations,ImageSets/{Main,Segmentation},SegmentationClass[Aug]}``.
Detection xml -> ``annotations/<split>.json`` (COCO, ``difficult`` -> ``iscrowd=1``);
segmentation PNGs are read as palette indices (0 = background, 1..20, 255 = ignore).
``SegmentationClassAug`` is preferred over ``SegmentationClass`` when both exist. Sample
ids are ``<year folder>_<image id>``.

PASCAL_MT: ``JPEGImages/<id>.jpg``, ``pascal-context/trainval/<id>.mat`` (``LabelMap``),
``human_parts/<id>.mat``, ``sal_distill/<id>.png``, ``normals_distill/<id>.png``,
``ImageSets/Context/{train,val}.txt``. Segmentation comes from one source for the whole
dataset (:data:`SEG_SOURCES`, never mixed per sample): ``context59`` (default) maps the
``LabelMap`` through the bundled 59-class table (:mod:`.pascal_context_classes`; 0 =
background, 1..59); ``voc21`` reads ``semseg/VOC12/<id>.png``, else
``semseg/pascal-context/<id>.png`` (21 VOC classes, ASTMT's rule); ``mapping`` maps the
``LabelMap`` through a user table (``src dst`` lines, unmapped -> 255). Edges: pixels whose
``LabelMap`` label differs from the right or lower neighbour (1 px wide). Parts: 6 human
parts (head, torso, upper arm, lower arm, upper leg, lower leg), 0 = background; an image
without any part pixel is not labelled for parts (as ASTMT ignores such maps). Saliency:
distilled map > 0.5. Normals: ``2 v / 255 - 1``, zeroed outside NYU-compatible classes
when ``json/{nyu,context}_classes.json`` exist.
"""
import json
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from .dense import IGNORE_INDEX, DenseWriter
from .detection import Box, ClassResolver, DetImage, boxes_record, clip_box, to_coco
from .io import DataError, checked_size, progress, read_label_map, read_rgb
from .output import atomic_dir
from .pascal_context_classes import CONTEXT59_CLASSES, context59_lut
from .report import Report
from .voc import parse_voc_xml

VOC_CLASSES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair',
               'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant',
               'sheep', 'sofa', 'train', 'tvmonitor')
VOC_SEG_CLASSES = ('background',) + VOC_CLASSES
PARTS_CLASSES = ('background', 'head', 'torso', 'upper arm', 'lower arm', 'upper leg',
                 'lower leg')
#: PASCAL-Part human part name -> index of PARTS_CLASSES.
HUMAN_PART = dict(hair=1, head=1, lear=1, lebrow=1, leye=1, mouth=1, nose=1, rear=1,
                  rebrow=1, reye=1, neck=2, torso=2, luarm=3, ruarm=3, lhand=4, llarm=4,
                  rhand=4, rlarm=4, luleg=5, ruleg=5, lfoot=6, llleg=6, rfoot=6, rlleg=6)
PERSON_CLASS_IND = 15

#: ``seg_source`` -> what the segmentation labels are (``meta.json`` ``seg_mapping``).
SEG_SOURCES = dict(
    context59='LabelMap through the bundled PASCAL-Context 59-class table: 0 = background '
              '(the other 400 classes and unlabelled), 1..59',
    voc21='semseg/VOC12/<id>.png, else semseg/pascal-context/<id>.png: 21 VOC classes, '
          '0 = background, 255 = ignore',
    mapping='LabelMap through a user table, unmapped -> 255')
#: ``seg_source`` -> class names written to ``meta.json`` (None: from num_seg_classes).
SEG_CLASSES = dict(context59=list(CONTEXT59_CLASSES), voc21=list(VOC_SEG_CLASSES),
                   mapping=None)
#: ``semseg/`` folders of the ``voc21`` source, in lookup order.
VOC21_DIRS = ('VOC12', 'pascal-context')


def _read_ids(path: Path) -> List[str]:
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


def _voc_year_dirs(root: Path) -> List[Path]:
    root = Path(root)
    if (root / 'JPEGImages').is_dir():
        return [root]
    dirs = sorted(p for p in root.iterdir() if p.is_dir() and (p / 'JPEGImages').is_dir())
    if not dirs:
        raise DataError(f'{root}: no VOC20xx folder with JPEGImages/')
    return dirs


def _voc_splits(year: Path) -> Dict[str, List[str]]:
    """split name -> ids: the union of the detection (``ImageSets/Main``) and the
    segmentation (``ImageSets/Segmentation``) lists of that name."""
    splits: Dict[str, List[str]] = {}
    for kind in ('Main', 'Segmentation'):
        set_dir = year / 'ImageSets' / kind
        files = {p.stem: p for p in sorted(set_dir.glob('*.txt'))} if set_dir.is_dir() else {}
        files = {k: v for k, v in files.items() if '_' not in k}  # skip per-class lists
        if 'train' in files and 'val' in files:
            files.pop('trainval', None)
        for name, path in files.items():
            ids = splits.setdefault(name, [])
            known = set(ids)
            ids.extend(i for i in _read_ids(path) if i not in known)
    if not splits:
        raise DataError(f'{year}/ImageSets: no split lists (train.txt, val.txt, trainval.txt, '
                        'test.txt) in Main/ or Segmentation/')
    return splits


def convert_voc(root: Path, out_dir: Path, overwrite: bool = False,
                show_progress: bool = True) -> Report:
    """VOC devkit (one or more ``VOC20xx`` folders) -> dense format + COCO detection."""
    report = Report(f'PASCAL VOC {root} -> {out_dir}')
    resolver = ClassResolver(VOC_CLASSES)
    with atomic_dir(out_dir, overwrite, tool='convert_voc', inputs=[root]) as tmp:
        writer = DenseWriter(tmp, 'pascal_voc', VOC_SEG_CLASSES)
        det = {}
        for year in _voc_year_dirs(root):
            seg_dir = next((year / d for d in ('SegmentationClassAug', 'SegmentationClass')
                            if (year / d).is_dir()), None)
            splits = _voc_splits(year)
            ids = sorted({i for v in splits.values() for i in v})
            for image_id in progress(ids, desc=year.name, enabled=show_progress):
                image = year / 'JPEGImages' / f'{image_id}.jpg'
                sid = f'{year.name}_{image_id}'
                size = checked_size(image, report)
                if size is None:
                    continue
                width, height = size
                seg = None
                if seg_dir is not None and (seg_dir / f'{image_id}.png').is_file():
                    seg = read_label_map(seg_dir / f'{image_id}.png')
                xml = year / 'Annotations' / f'{image_id}.xml'
                rec = None
                if xml.is_file():
                    parsed = parse_voc_xml(xml)
                    if parsed['width'] and (parsed['width'], parsed['height']) != (width, height):
                        raise DataError(f'{xml}: xml size {parsed["width"]}x{parsed["height"]} '
                                        f'!= image {width}x{height}')
                    boxes = [clip_box(Box(o['xmin'] - 1, o['ymin'] - 1,
                                          o['xmax'] - o['xmin'] + 1, o['ymax'] - o['ymin'] + 1,
                                          resolver.resolve(o['name'], str(xml), report),
                                          o['difficult']), width, height, str(xml), report)
                             for o in parsed['objects']]
                    valid = [b for b in boxes if b is not None]
                    rec = boxes_record(Path(f'{sid}.jpg'), sid, width, height, valid,
                                       len(boxes) - len(valid), str(xml), report,
                                       keep_unlabelled=True)
                if seg is None and (rec is None or not rec.labelled):
                    what = 'no valid box' if rec is not None else 'neither xml'
                    report.add('missing_annotation', f'{image}: {what} nor segmentation; '
                               'excluded')
                    continue
                in_splits = [s for s, v in splits.items() if image_id in v]
                writer.add(sid, image, in_splits, seg=seg)
                for split in in_splits:
                    det.setdefault(split, []).append(
                        (rec or DetImage(Path(f'{sid}.jpg'), sid, width, height, [], False),
                         seg is not None))
        (tmp / 'annotations').mkdir()
        for split, entries in det.items():
            coco = to_coco([r for r, _ in entries], VOC_CLASSES, lambda r: r.path.as_posix())
            for img, (_, has_seg) in zip(coco['images'], entries):
                if has_seg:
                    img['tasks'] = img['tasks'] + ['seg']
                    img['segmentation'] = f"{Path(img['file_name']).stem}.png"
            (tmp / 'annotations' / f'{split}.json').write_text(json.dumps(coco))
            report.count(f'boxes {split}', len(coco['annotations']))
        meta = writer.finish(source=str(root), det_classes=list(VOC_CLASSES))
    report.count('images', meta['num_samples'])
    report.count('segmentation masks', meta['tasks'].get('seg', 0))
    return report


def label_edges(label_map: np.ndarray) -> np.ndarray:
    """uint8 {0, 1}: 1 where the label differs from the right or the lower neighbour."""
    edge = np.zeros(label_map.shape, bool)
    edge[:, :-1] |= label_map[:, :-1] != label_map[:, 1:]
    edge[:-1, :] |= label_map[:-1, :] != label_map[1:, :]
    return edge.astype(np.uint8)


def read_human_parts(path: Path, shape) -> np.ndarray:
    """PASCAL-Part ``anno`` struct -> uint8 [H, W] of PARTS_CLASSES indices."""
    from scipy.io import loadmat

    try:
        anno = loadmat(path, squeeze_me=True, struct_as_record=False)['anno']
    except (KeyError, ValueError, OSError) as err:
        raise DataError(f'{path}: not a PASCAL-Part annotation ({err})') from err
    target = np.zeros(shape, np.uint8)
    for obj in np.atleast_1d(anno.objects):
        if int(obj.class_ind) != PERSON_CLASS_IND:
            continue
        for part in np.atleast_1d(obj.parts):
            if not hasattr(part, 'part_name'):
                continue
            name = str(part.part_name)
            if name not in HUMAN_PART:
                raise DataError(f'{path}: unknown human part {name!r}')
            mask = np.asarray(part.mask).astype(bool)
            if mask.shape != tuple(shape):
                raise DataError(f'{path}: part mask {mask.shape} != image {tuple(shape)}')
            target[mask] = HUMAN_PART[name]
    return target


def _read_mapping(path: Path) -> np.ndarray:
    """``source_id target_id`` lines -> int64 lookup table [65536] (unmapped -> 255)."""
    lut = np.full(65536, IGNORE_INDEX, np.int64)
    for n, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if line.strip() and not line.startswith('#'):
            try:
                src, dst = (int(v) for v in line.split()[:2])
            except ValueError as err:
                raise DataError(f'{path}:{n}: expected "source_id target_id"') from err
            if not 0 <= src < len(lut):
                raise DataError(f'{path}:{n}: source id {src} outside 0..{len(lut) - 1}')
            lut[src] = dst
    return lut


def _lookup(lut: np.ndarray, label_map: np.ndarray, path: Path) -> np.ndarray:
    """``lut[label_map]``; a LabelMap value outside the table raises naming ``path``."""
    bad = (label_map < 0) | (label_map >= len(lut))
    if bad.any():
        raise DataError(f'{path}: LabelMap values {np.unique(label_map[bad])[:10].tolist()} '
                        f'outside 0..{len(lut) - 1}')
    return lut[label_map]


def _resolve_seg_source(seg_source: Optional[str], seg_mapping: Optional[Path],
                        num_seg_classes: Optional[int]) -> str:
    """The segmentation source: ``seg_source``, else 'mapping' with a mapping file, else
    'context59'; inconsistent arguments raise ValueError."""
    source = seg_source or ('mapping' if seg_mapping is not None else 'context59')
    if source not in SEG_SOURCES:
        raise ValueError(f'seg_source {source!r}: expected one of {list(SEG_SOURCES)}')
    if (source == 'mapping') != (seg_mapping is not None):
        raise ValueError(f'seg_source {source!r} and seg_mapping {seg_mapping}: a mapping file '
                         "goes with seg_source 'mapping' (--seg-source mapping --seg-mapping "
                         'FILE), and only with it')
    if num_seg_classes is not None and source != 'mapping':
        raise ValueError(f'num_seg_classes is fixed by seg_source {source!r} '
                         f'({len(SEG_CLASSES[source])} classes); it only applies to a mapping')
    return source


def _voc21_png(root: Path, sid: str) -> Optional[Path]:
    """ASTMT's rule: ``semseg/VOC12/<id>.png``, else ``semseg/pascal-context/<id>.png``."""
    return next((root / 'semseg' / d / f'{sid}.png' for d in VOC21_DIRS
                 if (root / 'semseg' / d / f'{sid}.png').is_file()), None)


def convert_pascal_context(root: Path, out_dir: Path, seg_mapping: Optional[Path] = None,
                           num_seg_classes: Optional[int] = None, overwrite: bool = False,
                           show_progress: bool = True, seg_source: Optional[str] = None
                           ) -> Report:
    """PASCAL_MT tree -> dense format (see module doc).

    Args:
        root: the PASCAL_MT folder.
        out_dir: output folder (written atomically).
        seg_mapping: ``LabelMap_id class_id`` text file (``seg_source='mapping'``).
        num_seg_classes: class count of a mapping (names ``'0'..'n-1'``, range check).
        overwrite: replace an existing ``out_dir``.
        show_progress: progress bar.
        seg_source: one of :data:`SEG_SOURCES`, for every sample alike; default
            ``'mapping'`` with ``seg_mapping``, else ``'context59'``.
    """
    from scipy.io import loadmat

    root = Path(root)
    source = _resolve_seg_source(seg_source, seg_mapping, num_seg_classes)
    report = Report(f'PASCAL-Context {root} -> {out_dir} (seg: {source})')
    if source == 'context59':
        lut = context59_lut()
    elif source == 'mapping':
        lut = _read_mapping(seg_mapping)
    else:  # voc21: the semseg PNGs
        lut = None
    splits = {}
    for split in ('train', 'val'):
        path = root / 'ImageSets' / 'Context' / f'{split}.txt'
        if path.is_file():
            for sid in _read_ids(path):
                splits.setdefault(sid, []).append(split)
    if not splits:
        raise DataError(f'{root}/ImageSets/Context: no train.txt / val.txt')
    valid_normal_classes = None
    nyu_json, ctx_json = root / 'json' / 'nyu_classes.json', root / 'json' / 'context_classes.json'
    if nyu_json.is_file() and ctx_json.is_file():
        nyu, ctx = json.loads(nyu_json.read_text()), json.loads(ctx_json.read_text())
        valid_normal_classes = [ctx[c] for c in nyu if c in ctx and c != 'unknown']
        if 'tvmonitor' in ctx:
            valid_normal_classes.append(ctx['tvmonitor'])
    seg_classes = SEG_CLASSES[source] or (
        [str(i) for i in range(num_seg_classes)] if num_seg_classes else None)
    with atomic_dir(out_dir, overwrite, tool='convert_pascal_context',
                    inputs=[root, seg_mapping]) as tmp:
        writer = DenseWriter(tmp, 'pascal_context', seg_classes, PARTS_CLASSES)
        for sid in progress(sorted(splits), desc='PASCAL-Context', enabled=show_progress):
            image = root / 'JPEGImages' / f'{sid}.jpg'
            size = checked_size(image, report)
            if size is None:
                continue
            width, height = size
            labels = {}
            ctx_path = root / 'pascal-context' / 'trainval' / f'{sid}.mat'
            label_map = None
            if ctx_path.is_file():
                try:
                    label_map = np.asarray(loadmat(ctx_path)['LabelMap']).astype(np.int64)
                except (KeyError, ValueError, OSError) as err:
                    raise DataError(f'{ctx_path}: no readable LabelMap ({err})') from err
                labels['edge'] = label_edges(label_map)
                if lut is not None:
                    labels['seg'] = _lookup(lut, label_map, ctx_path)
            elif lut is not None:
                report.add('missing_annotation', f'{ctx_path}: not found; {sid} has no seg '
                           'and no edge label')
            if source == 'voc21':
                png = _voc21_png(root, sid)
                if png is None:
                    report.add('missing_annotation', f'{root}/semseg/{{VOC12,pascal-context}}/'
                               f'{sid}.png: not found; {sid} has no seg label')
                else:
                    labels['seg'] = read_label_map(png)
                    report.count(f'seg from semseg/{png.parent.name}')
            parts_path = root / 'human_parts' / f'{sid}.mat'
            if parts_path.is_file():
                parts = read_human_parts(parts_path, (height, width))
                if parts.any():
                    labels['parts'] = parts
                else:
                    report.count('images without human parts (not labelled for parts)')
            sal_path = root / 'sal_distill' / f'{sid}.png'
            if sal_path.is_file():
                labels['sal'] = (read_label_map(sal_path) / 255.0 > 0.5).astype(np.uint8)
            normal_path = root / 'normals_distill' / f'{sid}.png'
            if normal_path.is_file():
                normal = 2.0 * read_rgb(normal_path).astype(np.float32) / 255.0 - 1.0
                if valid_normal_classes is not None and label_map is not None:
                    normal[~np.isin(label_map, valid_normal_classes)] = 0.0
                labels['normal'] = normal
            writer.add(sid, image, splits[sid], **labels)
        meta = writer.finish(source=str(root), seg_source=source,
                             seg_mapping=str(seg_mapping) if seg_mapping else SEG_SOURCES[source],
                             normals_masked=valid_normal_classes is not None)
    report.count('images', meta['num_samples'])
    for task, n in meta['tasks'].items():
        report.count(f'labels {task}', n)
    return report
