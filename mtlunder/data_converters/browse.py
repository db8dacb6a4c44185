"""Pictures of dataset samples with all their labels, for a quick visual check.

Benchmark: input with boxes and class names | reference (when present).
Dense: image | segmentation | depth | normals | edges | parts | saliency (those present),
labels colourised (segmentation/parts with the PASCAL palette, 255 = ignore in VOC's cream;
depth with the turbo colour map over the frame's valid range).
"""
from pathlib import Path
from typing import List, Optional

import numpy as np

from .underwater_benchmark import read_benchmark
from .check import dataset_kind
from .dense import DENSE_LAYOUT, IGNORE_INDEX
from .io import progress, read_label_map, read_rgb, write_png
from .output import atomic_dir
from .report import Report


def palette(n: int = 256) -> np.ndarray:
    """PASCAL VOC colour palette, uint8 [n, 3]; index 255 (ignore) is cream (224, 224, 192)."""
    colours = np.zeros((n, 3), np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= ((c >> 0) & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        colours[i] = (r, g, b)
    if n > IGNORE_INDEX:
        colours[IGNORE_INDEX] = (224, 224, 192)
    return colours


def colourise_labels(labels: np.ndarray) -> np.ndarray:
    """uint8 [H, W] class indices -> RGB uint8 [H, W, 3]."""
    return palette()[labels.astype(np.int64) % 256]


def colourise_depth(depth: np.ndarray) -> np.ndarray:
    """Depth in metres -> RGB (turbo over the valid range; 0 = no measurement -> black)."""
    import cv2

    valid = depth > 0
    lo, hi = (depth[valid].min(), depth[valid].max()) if valid.any() else (0.0, 1.0)
    scaled = np.clip((depth - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(np.uint8)
    rgb = cv2.applyColorMap(scaled, cv2.COLORMAP_TURBO)[..., ::-1].copy()
    rgb[~valid] = 0
    return rgb


def draw_boxes(image: np.ndarray, boxes: List[tuple]) -> np.ndarray:
    """Draw ``(x, y, w, h, name, ignore)`` boxes with their class names (ignore: grey)."""
    import zlib

    import cv2

    out = image.copy()
    colours = palette()
    for x, y, w, h, name, ignore in boxes:
        class_colour = colours[1 + zlib.crc32(name.encode()) % 20]
        colour = (128, 128, 128) if ignore else tuple(int(v) for v in class_colour)
        p1, p2 = (int(round(x)), int(round(y))), (int(round(x + w)) - 1, int(round(y + h)) - 1)
        cv2.rectangle(out, p1, p2, colour, 2)
        cv2.putText(out, name, (p1[0], max(p1[1] - 3, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    colour, 1, cv2.LINE_AA)
    return out


def _hstack(panels: List[np.ndarray]) -> np.ndarray:
    height = max(p.shape[0] for p in panels)
    padded = [np.pad(p, ((0, height - p.shape[0]), (0, 4), (0, 0)), constant_values=255)
              for p in panels]
    return np.concatenate(padded, axis=1)


def browse_dataset(root: Path, out_dir: Path, num: int = 20, split: Optional[str] = None,
                   overwrite: bool = False, show_progress: bool = True) -> Report:
    """Write up to ``num`` pictures (``<out>/<name>.png``) of samples of ``root``."""
    root = Path(root)
    kind = dataset_kind(root)
    report = Report(f'browse {kind} {root} -> {out_dir}')
    with atomic_dir(out_dir, overwrite, tool='browse_dataset', inputs=[root]) as tmp:
        if kind == 'benchmark':
            images, anns, categories = read_benchmark(root)
            names = {c['id']: c['name'] for c in categories}
            chosen = [i for i in images if split in (None, i['split'])][:num]
            for img in progress(chosen, desc='browse', enabled=show_progress):
                picture = read_rgb(root / 'images' / img['file_name'])
                boxes = [(*a['bbox'], names[a['category_id']], a.get('iscrowd', 0))
                         for a in anns.get(img['id'], [])]
                panels = [draw_boxes(picture, boxes)]
                if img.get('reference'):
                    panels.append(read_rgb(root / 'references' / img['reference']))
                name = Path(img['file_name']).with_suffix('').as_posix().replace('/', '__')
                write_png(tmp / f'{name}.png', _hstack(panels))
                report.count('pictures')
        else:
            ids = []
            for split_file in sorted((root / 'splits').glob('*.txt')):
                if split in (None, split_file.stem):
                    ids.extend(i for i in split_file.read_text().split() if i not in ids)
            for sid in progress(ids[:num], desc='browse', enabled=show_progress):
                image = next((root / 'images' / f'{sid}{e}' for e in ('.jpg', '.png')
                              if (root / 'images' / f'{sid}{e}').is_file()), None)
                if image is None:
                    report.add('missing_image', f'{root}/images/{sid}.(jpg|png): not found')
                    continue
                panels = [read_rgb(image)]
                for task, (folder, suffix) in DENSE_LAYOUT.items():
                    path = root / folder / f'{sid}{suffix}'
                    if not path.is_file():
                        continue
                    if task == 'depth':
                        panels.append(colourise_depth(np.load(path)))
                    elif task == 'normal':
                        panels.append(((np.load(path) + 1) * 127.5).clip(0, 255)
                                      .astype(np.uint8))
                    elif task in ('edge', 'sal'):
                        panels.append(np.repeat(read_label_map(path)[..., None] * 255, 3, 2)
                                      .astype(np.uint8))
                    else:
                        panels.append(colourise_labels(read_label_map(path)))
                write_png(tmp / f'{sid}.png', _hstack(panels))
                report.count('pictures')
    return report
