"""Small dataset trees written by the tests (VOC, YOLO, paired, NYUD .mat, PASCAL_MT)."""
from pathlib import Path

import numpy as np
from PIL import Image


def write_image(path: Path, width: int, height: int, seed: int = 0, fmt: str = None) -> np.ndarray:
    """Random RGB image of the given size; returns its pixels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format=fmt)
    return pixels


def write_truncated_jpeg(path: Path, width: int = 64, height: int = 48) -> None:
    write_image(path, width, height)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def voc_xml(filename: str, width: int, height: int, objects, path_text: str = None) -> str:
    """objects: (name, xmin, ymin, xmax, ymax, difficult)."""
    objs = ''.join(
        f'<object><name>{n}</name><difficult>{d}</difficult><bndbox><xmin>{x1}</xmin>'
        f'<ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>'
        for n, x1, y1, x2, y2, d in objects)
    path = f'<path>{path_text}</path>' if path_text else ''
    return (f'<annotation><folder>JPEGImages</folder><filename>{filename}</filename>{path}'
            f'<size><width>{width}</width><height>{height}</height><depth>3</depth></size>'
            f'{objs}</annotation>')


def make_voc(root: Path, images: dict) -> Path:
    """images: stem -> (width, height, objects or None for no xml)."""
    for i, (stem, (w, h, objects)) in enumerate(sorted(images.items())):
        write_image(root / 'JPEGImages' / f'{stem}.jpg', w, h, seed=i)
        if objects is not None:
            (root / 'Annotations').mkdir(parents=True, exist_ok=True)
            (root / 'Annotations' / f'{stem}.xml').write_text(
                voc_xml(f'{stem}.jpg', w, h, objects, path_text=f'C:\\data\\{stem}.jpg'))
    return root


def make_pairs(root: Path, inp: str, ref: str, sizes: dict) -> Path:
    """sizes: stem -> ((w, h) of input or None, (w, h) of reference or None)."""
    for i, (stem, (in_size, ref_size)) in enumerate(sorted(sizes.items())):
        if in_size:
            write_image(root / inp / f'{stem}.jpg', *in_size, seed=i)
        if ref_size:
            write_image(root / ref / f'{stem}.png', *ref_size, seed=100 + i)
    return root
