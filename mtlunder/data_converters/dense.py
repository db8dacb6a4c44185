"""Writer of the dense multi-task format shared by the NYUD-v2, PASCAL VOC and
PASCAL-Context converters.

On disk (``<id>`` is a flat sample name)::

    <out>/images/<id>.(jpg|png)        RGB input
    <out>/segmentation/<id>.png        uint8 class index, 255 = ignore
    <out>/depth/<id>.npy               float32 [H, W], metres, 0 = no measurement
    <out>/normals/<id>.npy             float32 [H, W, 3], unit vectors, (0, 0, 0) = invalid
    <out>/edges/<id>.png               uint8 {0, 1}
    <out>/parts/<id>.png               uint8 part index (0 = background), 255 = ignore
    <out>/saliency/<id>.png            uint8 {0, 1}
    <out>/annotations/<split>.json     COCO detection (VOC only), file_name relative to images/
    <out>/splits/<split>.txt           one id per line
    <out>/meta.json                    dataset, tasks with counts, class names, conventions

A sample carries only the labels it has (a missing file means "not labelled").
"""
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Optional, Sequence, Union

import numpy as np

from .io import DataError, copy_file, image_size, write_png

IGNORE_INDEX = 255
#: task name -> (folder, file suffix)
DENSE_LAYOUT = dict(seg=('segmentation', '.png'), depth=('depth', '.npy'),
                    normal=('normals', '.npy'), edge=('edges', '.png'),
                    parts=('parts', '.png'), sal=('saliency', '.png'))


class DenseWriter:
    """Validate and write samples of the dense format into ``root``.

    Args:
        root: output folder (normally the temporary folder of ``atomic_dir``).
        dataset: dataset name stored in ``meta.json``.
        seg_classes: semantic class names (values must be < len or 255).
        parts_classes: part names, index 0 = background.
    """

    def __init__(self, root: Path, dataset: str, seg_classes: Optional[Sequence[str]] = None,
                 parts_classes: Optional[Sequence[str]] = None):
        self.root = Path(root)
        self.dataset = dataset
        self.seg_classes = list(seg_classes) if seg_classes else None
        self.parts_classes = list(parts_classes) if parts_classes else None
        self.splits: Dict[str, list] = defaultdict(list)
        self.task_counts: Counter = Counter()
        self.ids = set()

    def add(self, sample_id: str, image: Union[Path, np.ndarray], splits: Sequence[str],
            seg: Optional[np.ndarray] = None, depth: Optional[np.ndarray] = None,
            normal: Optional[np.ndarray] = None, edge: Optional[np.ndarray] = None,
            parts: Optional[np.ndarray] = None, sal: Optional[np.ndarray] = None) -> tuple:
        """Write one sample; every label must have the image's [H, W].

        Args:
            sample_id: flat name (no ``/``), unique.
            image: a JPEG/PNG file (copied after a decode check) or RGB uint8 [H, W, 3].
            splits: split names listing this sample.

        Returns:
            (width, height) of the image.
        """
        if '/' in sample_id or sample_id in self.ids:
            raise DataError(f'sample id {sample_id!r} is not flat or not unique')
        if isinstance(image, np.ndarray):
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                raise DataError(f'{sample_id}: image must be uint8 [H, W, 3], got '
                                f'{image.dtype} {image.shape}')
            height, width = image.shape[:2]
        else:
            width, height = image_size(image)
        labels = dict(seg=seg, depth=depth, normal=normal, edge=edge, parts=parts, sal=sal)
        for task, value in labels.items():
            if value is not None:
                labels[task] = self._check(sample_id, task, np.asarray(value), height, width)
        if isinstance(image, np.ndarray):
            write_png(self.root / 'images' / f'{sample_id}.png', image)
        else:
            ext = '.png' if Path(image).suffix.lower() == '.png' else '.jpg'
            copy_file(image, self.root / 'images' / f'{sample_id}{ext}')
        for task, value in labels.items():
            if value is None:
                continue
            folder, suffix = DENSE_LAYOUT[task]
            path = self.root / folder / f'{sample_id}{suffix}'
            if suffix == '.npy':
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, value)
            else:
                write_png(path, value)
            self.task_counts[task] += 1
        self.ids.add(sample_id)
        for split in splits:
            self.splits[split].append(sample_id)
        return width, height

    def _check(self, sid: str, task: str, value: np.ndarray, height: int, width: int):
        shape = (height, width, 3) if task == 'normal' else (height, width)
        if value.shape != shape:
            raise DataError(f'{sid}: {task} has shape {value.shape}, image needs {shape}')
        if task in ('depth', 'normal'):
            if not np.all(np.isfinite(value)):
                raise DataError(f'{sid}: {task} contains NaN or inf')
            if task == 'depth' and value.min() < 0:
                raise DataError(f'{sid}: depth has negative values (min {value.min()})')
            if task == 'normal' and np.abs(value).max() > 1.0 + 1e-3:
                raise DataError(f'{sid}: normals outside [-1, 1] (max |n| {np.abs(value).max()})')
            return value.astype(np.float32)
        limit = dict(seg=len(self.seg_classes) if self.seg_classes else IGNORE_INDEX,
                     parts=len(self.parts_classes) if self.parts_classes else IGNORE_INDEX,
                     edge=2, sal=2)[task]
        bad = (value < 0) | ((value >= limit) & (value != IGNORE_INDEX)) \
            if task in ('seg', 'parts') else (value < 0) | (value >= limit)
        if bad.any():
            allowed = f'0..{limit - 1}' + (' and 255 (ignore)' if task in ('seg', 'parts') else '')
            raise DataError(f'{sid}: {task} has values {np.unique(value[bad])[:10].tolist()} '
                            f'outside {allowed}')
        return value.astype(np.uint8)

    def finish(self, **meta) -> dict:
        """Write ``splits/*.txt`` and ``meta.json``; return the meta dict."""
        if not self.ids:
            raise DataError(f'{self.dataset}: no sample was converted')
        (self.root / 'splits').mkdir(parents=True, exist_ok=True)
        for split, ids in self.splits.items():
            (self.root / 'splits' / f'{split}.txt').write_text(''.join(f'{i}\n' for i in ids))
        info = dict(dataset=self.dataset, num_samples=len(self.ids),
                    splits={k: len(v) for k, v in sorted(self.splits.items())},
                    tasks=dict(sorted(self.task_counts.items())),
                    seg_classes=self.seg_classes, parts_classes=self.parts_classes,
                    ignore_index=IGNORE_INDEX, depth_unit='metre (0 = no measurement)',
                    normals='float32 unit vectors, (0, 0, 0) = invalid',
                    layout={t: f'{f}/<id>{s}' for t, (f, s) in DENSE_LAYOUT.items()}, **meta)
        (self.root / 'meta.json').write_text(json.dumps(info, indent=1))
        return info
