"""The image reader of the image-quality metrics (full-reference and no-reference)."""
from typing import Optional

import numpy as np
import torch


def read_rgb(path: str, backend_args: Optional[dict] = None,
             owner: str = 'read_rgb') -> torch.Tensor:
    """[3, H, W] float64 RGB in 0-255 of the image at ``path``.

    Read through mmengine's file backends (``backend_args``) and decoded with Pillow, which
    decodes every byte: a truncated file raises instead of decoding grey.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file cannot be decoded.
        Both messages start with ``owner`` (the metric that reads) and name ``path``.
    """
    import mmcv
    from mmengine import fileio

    try:
        content = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise FileNotFoundError(f'{owner}: image file not found: {path}') from None
    try:
        img = mmcv.imfrombytes(content, flag='color', channel_order='rgb', backend='pillow')
    except (OSError, SyntaxError, ValueError) as err:
        raise ValueError(f'{owner}: cannot decode image {path} ({err})') from err
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).double()
