"""The one atomic file writer: every file the package writes (annotations, reports,
records, predictions, pictures, videos) goes through a hidden temporary file in the
target's folder (``.<name>.tmp-<hex><ext>``) and ``os.replace``, so a reader never sees a
half-written file and a failed or interrupted write leaves the old file (or nothing).

The lowest floor of the package (setup.cfg ``[importlinter:contract:layers]``): it imports
nothing of mtlunder, so converters, metrics, visualization, apis and analysis all use it.
Folders are swapped in by the converters' output policy
(:func:`mtlunder.data_converters.output.atomic_dir`).
"""
import json
import os
import os.path as osp
import uuid
from contextlib import contextmanager
from typing import IO, Any, Iterator, Union

import numpy as np

__all__ = ['atomic_path', 'atomic_open', 'atomic_write_bytes', 'atomic_write_text',
           'atomic_write_json', 'atomic_imwrite', 'atomic_write_palette_png']

PathLike = Union[str, os.PathLike]


@contextmanager
def atomic_path(path: PathLike) -> Iterator[str]:
    """A temporary path to write ``path`` through, for writers that take a file name
    (e.g. ``cv2.VideoWriter``).

    Parent folders are created. The temporary name keeps ``path``'s extension (encoders
    choose the format by it). When the block ends without an exception the temporary file
    replaces ``path``; otherwise it is removed and the exception propagates (Ctrl-C
    included).
    """
    path = os.fspath(path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    name = osp.basename(path)
    tmp = osp.join(folder, f'.{name}.tmp-{uuid.uuid4().hex[:8]}{osp.splitext(name)[1]}')
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if osp.lexists(tmp):
            os.remove(tmp)
        raise


@contextmanager
def atomic_open(path: PathLike, mode: str = 'w', **kwargs) -> Iterator[IO]:
    """``open`` for writing (``mode`` ``'w'`` or ``'wb'``; ``kwargs`` go to ``open``)
    through :func:`atomic_path`: ``path`` holds the whole content once the block ends,
    or is untouched."""
    if mode not in ('w', 'wb'):
        raise ValueError(f"atomic_open writes a new file: mode 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as f:
            yield f


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, creating parent folders."""
    with atomic_open(path, 'wb') as f:
        f.write(data)


def atomic_write_text(path: PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (text mode, the locale's encoding, as
    ``open(path, 'w')``), creating parent folders."""
    with atomic_open(path, 'w') as f:
        f.write(text)


def atomic_write_json(path: PathLike, obj: Any, **dumps_kwargs) -> None:
    """``json.dumps(obj, **dumps_kwargs)`` written to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, **dumps_kwargs))


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
