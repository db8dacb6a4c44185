"""Writers of tiny benchmark folders in the on-disk format, for the dataset tests."""
import json
from pathlib import Path

import numpy as np

#: ``<project root>/../shared/data``: real samples kept outside the project.
SHARED_DATA = Path(__file__).resolve().parents[2] / '..' / 'shared' / 'data'

CATEGORIES = [
    dict(id=1, name='holothurian'), dict(id=2, name='echinus'),
    dict(id=3, name='scallop'), dict(id=4, name='starfish')
]


def blob_image(h: int, w: int, boxes, colour=(40, 200, 250), seed: int = 0) -> np.ndarray:
    """uint8 H x W x 3 (BGR): dark noisy background, a solid ``colour`` blob per xyxy box."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 40, size=(h, w, 3), dtype=np.uint8)
    for x1, y1, x2, y2 in boxes:
        img[int(y1):int(y2), int(x1):int(x2)] = colour
    return img


def write_benchmark(root: Path, images: list, annotations: list,
                    categories=CATEGORIES, split: str = 'train') -> Path:
    """Write ``root/{images,references,annotations}`` in the benchmark format.

    ``images``: dicts with ``file_name``, ``img`` (array) and optionally ``ref``
    (array) plus any extra COCO image fields; returns the annotation file path.
    """
    import cv2

    for sub in ('images', 'references', 'annotations'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    entries = []
    for img_id, spec in enumerate(images, start=1):
        spec = dict(spec)
        img, ref = spec.pop('img'), spec.pop('ref', None)
        assert cv2.imwrite(str(root / 'images' / spec['file_name']), img)
        reference = None
        if ref is not None:
            reference = Path(spec['file_name']).stem + '.png'
            assert cv2.imwrite(str(root / 'references' / reference), ref)
        entries.append(dict(id=img_id, width=img.shape[1], height=img.shape[0],
                            reference=reference, **spec))
    ann_file = root / 'annotations' / f'{split}.json'
    ann_file.write_text(json.dumps(dict(images=entries, annotations=annotations,
                                        categories=categories)))
    return ann_file


def coco_ann(ann_id: int, image_id: int, xyxy, category_id: int, iscrowd: int = 0) -> dict:
    x1, y1, x2, y2 = xyxy
    return dict(id=ann_id, image_id=image_id, bbox=[x1, y1, x2 - x1, y2 - y1],
                area=(x2 - x1) * (y2 - y1), iscrowd=iscrowd, category_id=category_id)
