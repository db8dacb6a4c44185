"""File access shared by the data converters: checked image reads, file output under the
output policy, progress.

Output folders: :mod:`.output`.

Every reader raises :class:`DataError` with the offending path in the message, so a
converter can either stop with a clear error or log a skip that names the file.
"""
import shutil
import sys
from pathlib import Path
from typing import Iterable, Optional, Sequence, Tuple

import numpy as np

from mtlunder import fileio
from .output import check_file_output

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


class DataError(ValueError):
    """Bad input data; the message names the file or tensor and what is wrong."""


def is_image_file(path: Path) -> bool:
    """Whether ``path`` has an image extension (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_EXTS


def list_images(folder: Path) -> list:
    """Sorted image files directly inside ``folder``."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and is_image_file(p))


def _open_checked(path: Path):
    """Open and fully decode an image with PIL, raising :class:`DataError` on any failure."""
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise DataError(f'{path}: file not found')
    try:
        image = Image.open(path)
        image.load()  # decodes every byte: truncated files raise here
    except (OSError, SyntaxError, ValueError) as err:
        raise DataError(f'{path}: cannot decode image ({err})') from err
    return image


def read_rgb(path: Path) -> np.ndarray:
    """Decode an image file to RGB uint8 [H, W, 3]; corrupt/truncated/missing -> DataError."""
    with _open_checked(path) as image:
        return np.asarray(image.convert('RGB')).copy()


def image_size(path: Path) -> Tuple[int, int]:
    """(width, height) of an image after a full decode (so truncated files are caught)."""
    with _open_checked(path) as image:
        return image.size


def checked_size(path: Path, report) -> Optional[Tuple[int, int]]:
    """(width, height) after a full decode, or None with a ``corrupt_image`` entry (naming
    the file) added to ``report`` when the image is missing, truncated or corrupt."""
    try:
        return image_size(path)
    except DataError as err:
        report.add('corrupt_image', f'{err}; not converted')
        return None


def read_label_map(path: Path) -> np.ndarray:
    """Read a single-channel label PNG as integer indices [H, W].

    Palette ('P') images give their palette indices, not colours; 8/16-bit grey images give
    their values. An RGB label image is refused (its colours are not class indices).
    """
    with _open_checked(path) as image:
        if image.mode not in ('P', 'L', 'I', 'I;16', 'I;16B', '1'):
            raise DataError(f'{path}: label image has mode {image.mode!r}; expected a palette '
                            'or single-channel PNG of class indices')
        return np.asarray(image).astype(np.int64 if image.mode.startswith('I') else np.uint8)


def read_uint16_png(path: Path) -> np.ndarray:
    """Read a 16-bit single-channel PNG as uint16 [H, W]."""
    with _open_checked(path) as image:
        array = np.asarray(image)
    if array.ndim != 2 or array.dtype.itemsize < 2:
        raise DataError(f'{path}: expected a 16-bit single-channel PNG, got '
                        f'{array.dtype} {array.shape}')
    return array.astype(np.uint16)


def write_png(path: Path, array: np.ndarray, compress_level: int = 1) -> None:
    """Write uint8 [H, W] / [H, W, 3] (RGB) or uint16 [H, W] as PNG, creating parents.

    ``compress_level`` 1 (fast zlib) keeps the files lossless and encodes natural images
    several times faster than PIL's default 6, for files about 10-20% larger.
    """
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.ascontiguousarray(array)
    if array.dtype not in (np.uint8, np.uint16):
        raise DataError(f'{path}: cannot write dtype {array.dtype} as PNG')
    Image.fromarray(array).save(path, compress_level=compress_level)


def float_to_uint8(image: np.ndarray) -> np.ndarray:
    """[0, 1] float image -> uint8 with rounding."""
    return np.clip(np.round(np.asarray(image, np.float32) * 255.0), 0, 255).astype(np.uint8)


def copy_file(src: Path, dst: Path) -> None:
    """Copy bytes, creating parent folders."""
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def atomic_write_text(path: Path, text: str, overwrite: bool = True,
                      inputs: Sequence[Optional[Path]] = ()) -> None:
    """The data tools' file output: :func:`mtlunder.fileio.atomic_write_text` under the
    output policy. A ``path`` that is one of ``inputs``, or replaces a file inside one, is
    refused (:func:`.output.check_file_output`), and so is an existing ``path`` without
    ``overwrite``."""
    path = Path(path).resolve()
    check_file_output(path, inputs)
    if path.exists() and not overwrite:
        raise FileExistsError(f'{path} already exists; pass --overwrite to replace it')
    fileio.atomic_write_text(path, text)


def progress(iterable: Iterable, total: Optional[int] = None, desc: str = '',
             enabled: bool = True) -> Iterable:
    """A tqdm progress bar on stderr (a plain iterator when disabled)."""
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, dynamic_ncols=True,
                leave=False)
