"""The VOC + NYUD-v2 demo data: real VOC detection, stand-in VOC segmentation, real NYUD-v2
depth, from the public samples of ``../shared/data``.

Written under ``out``::

    voc/    convert_voc output of ``voc_samples`` (VOC2007 + VOC2012, 10 images, of which
            2 are truncated and reported): real images and real boxes (``det``); the
            masks (``seg``) are STAND-INS painted from the real boxes (class of the box,
            larger boxes first so smaller objects stay visible, ``difficult`` boxes 255 =
            ignore), because no VOC mask is in the samples
    nyud/   dense format of the 4 NYUD-v2 RGB-D frames of ``nyud_samples`` and
            ``nyud_rgbd_metric``: real images and real metric depth (``depth``)
    README.md   which label is real and which is a stand-in

Every sample is in both ``train`` and ``val`` (the demo shows that the mixture trains and
is scored per source; it cannot measure generalisation on 12 images).
"""
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .dense import IGNORE_INDEX, DenseWriter
from .io import DataError, atomic_write_text, checked_size, write_png
from .output import atomic_dir
from .pascal import VOC_CLASSES, convert_voc
from .report import Report
from .rgbd import find_rgbd_frames, read_rgbd
from .voc import parse_voc_xml

DEMO_SPLITS = ('train', 'val')

README = """# VOC + NYUD-v2 demo data (mtlunder.data_converters.build_voc_nyud_demo)

| source | images | labels | real or stand-in |
|---|---|---|---|
| voc/ (det) | VOC2007 + VOC2012 of ../shared/data/voc_samples | VOC xml boxes | real |
| voc/ (seg) | the same images | masks painted from the real boxes | STAND-IN |
| nyud/ (depth) | NYUD-v2 of nyud_samples + nyud_rgbd_metric | metric depth | real |

No VOC mask is in the samples, hence the stand-in masks. Every sample is listed in both
train and val: the demo checks the mechanism, not accuracy.
"""


def box_masks(xml_path: Path, height: int, width: int) -> np.ndarray:
    """uint8 [H, W] stand-in segmentation of a VOC xml: 0 = background, ``1 + VOC index``
    inside each box (larger boxes painted first), 255 inside ``difficult`` boxes."""
    parsed = parse_voc_xml(xml_path)
    mask = np.zeros((height, width), np.uint8)
    objects = sorted(parsed['objects'], key=lambda o: -(o['xmax'] - o['xmin'])
                     * (o['ymax'] - o['ymin']))
    for obj in objects:
        if obj['name'] not in VOC_CLASSES:
            raise DataError(f'{xml_path}: class {obj["name"]!r} is not a VOC class')
        value = IGNORE_INDEX if obj['difficult'] else 1 + VOC_CLASSES.index(obj['name'])
        x0, y0 = int(obj['xmin']) - 1, int(obj['ymin']) - 1    # 1-based inclusive pixels
        mask[max(y0, 0):int(obj['ymax']), max(x0, 0):int(obj['xmax'])] = value
    return mask


def _demo_devkit(voc_root: Path, devkit: Path) -> None:
    """Copy the VOC samples into ``devkit`` with stand-in masks and demo split lists (an
    image that does not decode gets no mask; ``convert_voc`` reports it)."""
    unused = Report('decode check')
    for year in sorted(p for p in voc_root.iterdir() if (p / 'JPEGImages').is_dir()):
        dst = devkit / year.name
        shutil.copytree(year / 'JPEGImages', dst / 'JPEGImages')
        shutil.copytree(year / 'Annotations', dst / 'Annotations')
        ids = []
        for image in sorted((year / 'JPEGImages').glob('*.jpg')):
            xml = year / 'Annotations' / f'{image.stem}.xml'
            size = checked_size(image, unused)
            if size is None or not xml.is_file():
                continue
            write_png(dst / 'SegmentationClass' / f'{image.stem}.png',
                      box_masks(xml, size[1], size[0]))
            ids.append(image.stem)
        for kind in ('Main', 'Segmentation'):
            for split in DEMO_SPLITS:
                path = dst / 'ImageSets' / kind / f'{split}.txt'
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(''.join(f'{i}\n' for i in ids))


def build_voc_nyud_demo(shared: Path, out: Path, overwrite: bool = False,
                        show_progress: bool = True) -> Report:
    """Write ``out/voc``, ``out/nyud`` and ``out/README.md`` from ``shared`` (the
    ``../shared/data`` folder); see the module doc."""
    shared, out = Path(shared), Path(out)
    for folder in ('voc_samples', 'nyud_samples', 'nyud_rgbd_metric'):
        if not (shared / folder).is_dir():
            raise DataError(f'{shared / folder}: not found; the demo data is built from the '
                            'public samples of ../shared/data')
    report = Report(f'VOC + NYUD-v2 demo {shared} -> {out}')
    with atomic_dir(out, overwrite, tool='build_voc_nyud_demo', inputs=[shared]) as tmp:
        with tempfile.TemporaryDirectory() as devkit:
            _demo_devkit(shared / 'voc_samples', Path(devkit))
            voc = convert_voc(Path(devkit), tmp / 'voc', show_progress=show_progress)
        report.merge(voc)
        with atomic_dir(tmp / 'nyud', tool='build_voc_nyud_demo') as nyud:
            writer = DenseWriter(nyud, 'nyud_v2')
            for root in ('nyud_samples', 'nyud_rgbd_metric'):
                for frame in find_rgbd_frames(shared / root):
                    image, depth = read_rgbd(frame)
                    sid = f'{root}_{frame.key}'.replace('/', '_')
                    writer.add(sid, image, DEMO_SPLITS, depth=depth)
            meta = writer.finish(source=f'{shared}/nyud_samples + nyud_rgbd_metric')
        atomic_write_text(tmp / 'README.md', README)
    report.count('NYUD-v2 depth frames', meta['num_samples'])
    return report
