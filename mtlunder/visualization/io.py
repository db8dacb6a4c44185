"""Atomic file writes for pictures and predictions: a temporary file in the target's folder,
then ``os.replace``, so a reader never sees a half-written file."""
import os
import os.path as osp
import uuid

import numpy as np


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file in ``path``'s folder, then ``os.replace`` it."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.tmp-{uuid.uuid4().hex[:8]}')
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_imwrite(path: str, img: np.ndarray) -> None:
    """Encode ``img`` by ``path``'s extension with cv2 and write it atomically: BGR uint8
    [H, W, 3], grey uint8 [H, W] or, for .png, uint16 [H, W] (cv2's defaults)."""
    import cv2

    ok, buf = cv2.imencode(osp.splitext(path)[1], img)
    if not ok:
        raise OSError(f'cannot encode a {img.dtype} {list(img.shape)} image for {path}')
    atomic_write_bytes(path, buf.tobytes())


def atomic_write_palette_png(path: str, label: np.ndarray, palette: np.ndarray) -> None:
    """A class-index map uint8 [H, W] as a palette ('P' mode) PNG: the file holds the
    indices, viewers show ``palette`` (RGB uint8 [256, 3]) colours."""
    import io

    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(label, dtype=np.uint8), mode='P')
    img.putpalette(palette.astype(np.uint8).reshape(-1).tolist())
    buf = io.BytesIO()
    img.save(buf, format='PNG')
    atomic_write_bytes(path, buf.getvalue())
