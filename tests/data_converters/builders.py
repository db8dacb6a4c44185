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


def save_parts_mat(path: Path, masks: dict, shape) -> None:
    """A PASCAL-Part ``anno`` .mat (the struct ``read_human_parts`` reads): one person
    (class 15) whose parts are ``masks`` (part name -> bool [H, W]; empty: a person without
    parts) and a dog (class 12) without parts covering the image."""
    from scipy.io import savemat

    parts = np.empty((1, len(masks)), dtype=[('part_name', 'O'), ('mask', 'O')])
    for i, (name, mask) in enumerate(masks.items()):
        parts[0, i] = (name, mask.astype(np.uint8))
    objects = np.empty((1, 2), dtype=[('class', 'O'), ('class_ind', 'O'), ('mask', 'O'),
                                      ('parts', 'O')])
    person = np.any(list(masks.values()), axis=0) if masks else np.zeros(shape, bool)
    objects[0, 0] = ('person', 15, person.astype(np.uint8),
                     parts if masks else np.zeros((0, 0)))
    objects[0, 1] = ('dog', 12, np.ones(shape, np.uint8), np.zeros((0, 0)))
    anno = np.empty((1, 1), dtype=[('imname', 'O'), ('objects', 'O')])
    anno[0, 0] = ('x', objects)
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(path, dict(anno=anno))


def make_pascal_mt(root: Path, samples: dict, splits: dict) -> Path:
    """A PASCAL_MT tree (ASTMT's layout).

    Args:
        samples: id -> dict with ``label_map`` (int [H, W] of 459-space ``labels.txt``
            indices, 0 = unlabelled; sets the image size) and optional ``parts`` (part
            name -> bool mask; ``{}``: a person without parts; absent: no
            ``human_parts`` file), ``sal`` (uint8 [H, W] distilled map), ``normal``
            (uint8 [H, W, 3] distilled map), ``voc12`` / ``context_png`` (uint8 [H, W]
            ``semseg/VOC12`` / ``semseg/pascal-context`` PNG).
        splits: split name -> ids (``ImageSets/Context/<split>.txt``).
    """
    from scipy.io import savemat

    for i, (sid, spec) in enumerate(sorted(samples.items())):
        label_map = np.asarray(spec['label_map'])
        height, width = label_map.shape
        write_image(root / 'JPEGImages' / f'{sid}.jpg', width, height, seed=i)
        (root / 'pascal-context' / 'trainval').mkdir(parents=True, exist_ok=True)
        savemat(root / 'pascal-context' / 'trainval' / f'{sid}.mat',
                dict(LabelMap=label_map.astype(np.uint16)))
        if 'parts' in spec:
            save_parts_mat(root / 'human_parts' / f'{sid}.mat', spec['parts'], (height, width))
        for key, folder in (('sal', 'sal_distill'), ('normal', 'normals_distill'),
                            ('voc12', 'semseg/VOC12'), ('context_png', 'semseg/pascal-context')):
            if spec.get(key) is not None:
                (root / folder).mkdir(parents=True, exist_ok=True)
                Image.fromarray(np.asarray(spec[key], np.uint8)).save(root / folder / f'{sid}.png')
    (root / 'ImageSets' / 'Context').mkdir(parents=True, exist_ok=True)
    for split, ids in splits.items():
        (root / 'ImageSets' / 'Context' / f'{split}.txt').write_text(''.join(f'{i}\n' for i in ids))
    return root


def random_pascal_mt(root: Path, num_train: int = 6, num_val: int = 2, size=(48, 64),
                     seed: int = 0) -> Path:
    """A PASCAL_MT tree of random samples of ``size`` (H, W): LabelMaps of blocks of
    listed and unlisted ``labels.txt`` ids, a person with head and torso parts on every
    other image (the others: a person without parts), distilled saliency and normals.
    Ids ``2008_<k:06d>``, the first ``num_train`` in train, the rest in val."""
    rng = np.random.default_rng(seed)
    height, width = size
    ids = [f'2008_{k:06d}' for k in range(num_train + num_val)]
    samples = {}
    for k, sid in enumerate(ids):
        blocks = rng.choice([0, 2, 3, 9, 284, 285, 360, 440, 459], size=(4, 4))
        label_map = np.kron(blocks, np.ones((height // 4 + 1, width // 4 + 1), int))
        label_map = label_map[:height, :width]
        head, torso = np.zeros(size, bool), np.zeros(size, bool)
        top = int(rng.integers(0, height // 2))
        head[top:top + height // 4, width // 3:width // 2] = True
        torso[top + height // 4:top + height // 2, width // 3:width // 2] = True
        sal = np.zeros(size, np.uint8)
        sal[top:top + height // 2, width // 4:3 * width // 4] = 230
        samples[sid] = dict(label_map=label_map,
                            parts=dict(head=head, torso=torso) if k % 2 == 0 else {},
                            sal=sal, normal=rng.integers(0, 256, (height, width, 3)))
    return make_pascal_mt(root, samples, dict(train=ids[:num_train], val=ids[num_train:]))
