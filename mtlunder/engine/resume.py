"""Which checkpoint ``--resume`` (no value) continues from, surviving a truncated file."""
import glob
import logging
import os.path as osp
import zipfile
from typing import Optional

from mmengine.logging import print_log

POINTER = 'last_checkpoint'


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` cannot be resumed from (missing, truncated, damaged, not a training
    checkpoint), or None when its zip records match their CRC-32 and it loads with
    :func:`mtlunder.compat.safe_load` into a dict with a ``state_dict``.

    Raises:
        UnsafeCheckpointError: the file is refused as unsafe; that is never skipped silently.
    """
    from mtlunder.compat import UnsafeCheckpointError, safe_load

    if not osp.isfile(path):
        return 'no such file'
    if zipfile.is_zipfile(path):  # torch's format: every record carries a CRC-32
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
        if damaged is not None:
            return f'damaged record {damaged} (CRC mismatch)'
    try:
        checkpoint = safe_load(path, map_location='cpu')
    except UnsafeCheckpointError:
        raise
    except Exception as err:  # torch raises OSError, RuntimeError, EOFError, pickle errors
        detail = f'{type(err).__name__}: {err}'.splitlines()[0]
        return f'unreadable, truncated or damaged ({detail})'
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
        return 'not a training checkpoint (no state_dict)'
    return None


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint to resume ``work_dir`` from.

    mmengine resumes the file named in ``work_dir/last_checkpoint``. When that pointer is
    empty, or its target is missing, truncated or unreadable, this falls back to the newest
    readable ``*.pth`` of ``work_dir`` (by modification time) with a warning naming the bad
    file. Without a pointer, as in mmengine, there is nothing to resume.

    Returns:
        The checkpoint path, or None (train from scratch; a warning says why when the pointer
        existed).
    """
    pointer = osp.join(work_dir, POINTER)
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        target = f.read().strip()
    bad = set()
    if not target:
        print_log(f'{pointer} is empty', logger='current', level=logging.WARNING)
    else:
        problem = checkpoint_problem(target)
        if problem is None:
            return target
        print_log(f'Cannot resume from {target} (named in {pointer}): {problem}',
                  logger='current', level=logging.WARNING)
        bad.add(osp.realpath(target))
    candidates = sorted(glob.glob(osp.join(work_dir, '*.pth')),
                        key=lambda p: (osp.getmtime(p), p), reverse=True)
    for path in candidates:
        if osp.realpath(path) in bad:
            continue
        problem = checkpoint_problem(path)
        if problem is None:
            print_log(f'Resuming from {path}, the newest readable checkpoint in {work_dir}',
                      logger='current', level=logging.WARNING)
            return path
        print_log(f'Cannot resume from {path}: {problem}', logger='current',
                  level=logging.WARNING)
    print_log(f'No readable checkpoint in {work_dir}: training starts from scratch',
              logger='current', level=logging.WARNING)
    return None
