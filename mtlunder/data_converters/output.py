"""Where a data tool may write, and how it replaces an earlier output: the one policy of
every tool that writes a dataset folder.

- An output that is one of the tool's inputs, or a folder holding one, is always refused.
- An existing output is replaced only with ``overwrite``, and only when it is empty or a
  dataset written by an mtlunder tool: every output carries :data:`MARKER`
  (``.mtlunder-dataset.json``, naming the tool). Any other non-empty folder is refused.
  Everything inside a marked folder is replaced, files added to it later included.
- The new output is written in a hidden temporary sibling (``.<name>.tmp-*``) and swapped
  in only when complete; the old one (renamed ``.<name>.old-*``) is removed after the swap.
- Temporary siblings of the same output left by a killed run are removed by the next run
  (logged); those of a build that is still running are reported and left alone.
- Ctrl-C while writing deletes the temporary folder and raises :class:`Interrupted`, whose
  message says what was interrupted and that nothing was written.
"""
import json
import logging
import os
import shutil
import socket
import tempfile
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

#: File every dataset written through :func:`atomic_dir` carries at its root.
MARKER = '.mtlunder-dataset.json'

logger = logging.getLogger(__name__)


class UnsafeOutput(ValueError):
    """An output path the tool refuses to write or replace; the message names it and why."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C while a tool wrote its output; the message says what was left on disk."""


def check_not_input(out: Path, inputs: Sequence[Optional[Path]]) -> None:
    """Refuse an output that is one of ``inputs`` or a folder containing one.

    Paths are resolved (symlinks, ``..``) first; None entries of ``inputs`` are ignored.

    Raises:
        UnsafeOutput: naming the output and the input.
    """
    out = Path(out).resolve()
    for inp in inputs:
        if inp is None:
            continue
        inp = Path(inp).resolve()
        if inp == out:
            raise UnsafeOutput(f'{out}: refusing to write the output over its own input')
        if out in inp.parents:
            raise UnsafeOutput(f'{out}: refusing to write the output here: it contains the '
                               f'input {inp}, which replacing it would delete; choose '
                               'another output folder')


def check_file_output(path: Path, inputs: Sequence[Optional[Path]]) -> None:
    """Refuse a file output that is an input, or an existing file inside an input folder
    (a new file there is fine, e.g. ``<dataset>/annotations.json``).

    Raises:
        UnsafeOutput: naming the file and the input.
    """
    path = Path(path).resolve()
    check_not_input(path, inputs)
    if path.exists():
        for inp in inputs:
            if inp is not None and Path(inp).resolve() in path.parents:
                raise UnsafeOutput(f'{path}: refusing to replace a file inside the input '
                                   f'{Path(inp).resolve()}')


def read_marker(folder: Path) -> Optional[dict]:
    """The :data:`MARKER` of ``folder`` (``tool``; in a temporary folder also ``pid``,
    ``host``, ``started``), or None when it has none or it is not readable json."""
    try:
        marker = json.loads((Path(folder) / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def check_replaceable(out: Path, overwrite: bool) -> None:
    """Refuse to replace ``out`` unless it is absent, or ``overwrite`` is set and it is an
    empty folder or a dataset written by an mtlunder tool (it has :data:`MARKER`).

    Raises:
        UnsafeOutput: ``out`` is a file, or a non-empty folder without the marker.
        FileExistsError: ``out`` may be replaced, but ``overwrite`` is not set.
    """
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir():
        raise UnsafeOutput(f'{out}: exists and is not a folder; refusing to replace it')
    marker = read_marker(out)
    if marker is None and any(out.iterdir()):
        raise UnsafeOutput(
            f'{out}: refusing to replace it: the folder is not empty and has no {MARKER}, so '
            'it is not a dataset written by an mtlunder tool (--overwrite only replaces those); '
            'choose another output folder, or empty it yourself')
    if not overwrite:
        what = f' (a dataset written by {marker.get("tool", "?")})' if marker else ''
        raise FileExistsError(f'{out} already exists{what}; pass --overwrite to replace it')


def check_output(out: Path, overwrite: bool = False,
                 inputs: Sequence[Optional[Path]] = ()) -> None:
    """Both checks of :func:`atomic_dir`, for a tool to run before a long read phase."""
    check_not_input(out, inputs)
    check_replaceable(Path(out).resolve(), overwrite)


def _owner_alive(marker: Optional[dict]) -> Optional[bool]:
    """Whether the process named by a temporary folder's marker still runs: True, False,
    or None when that cannot be told (another host)."""
    if marker is None or not isinstance(marker.get('pid'), int):
        return False  # no owner recorded: a folder of an interrupted write
    if marker.get('host') != socket.gethostname():
        return None
    try:
        os.kill(marker['pid'], 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob('*') if p.is_file()) / 2**20


def remove_stale_temps(out: Path) -> List[Path]:
    """Remove the temporary siblings of ``out`` (``.<name>.tmp-*``, ``.<name>.old-*``) left
    by killed runs, logging each; those of a build still running (or of another host) are
    logged and left alone. Returns the removed folders."""
    out = Path(out)
    if not out.parent.is_dir():
        return []
    removed = []
    prefix = f'.{out.name}.'
    for path in sorted(out.parent.iterdir()):
        rest = path.name[len(prefix):]
        if not path.name.startswith(prefix) or not rest.startswith(('tmp-', 'old-')) \
                or not path.is_dir():
            continue
        marker = read_marker(path)
        alive = _owner_alive(marker) if rest.startswith('tmp-') else False
        if alive is not False:
            where = 'this host' if alive else f'host {marker.get("host")}'
            logger.warning(f'{path}: temporary folder of a build of {out} by pid '
                           f'{marker["pid"]} on {where} that may still be running; left alone '
                           '(remove it yourself if that build is gone)')
            continue
        size = _size_mb(path)
        shutil.rmtree(path, ignore_errors=True)
        logger.warning(f'removed {path} ({size:.1f} MB), a temporary folder of {out} left by an '
                       'interrupted run')
        removed.append(path)
    return removed


def _write_marker(folder: Path, tool: str, owner: bool) -> None:
    """``{"tool": tool}``; while being written (``owner``) also the writing process's
    ``pid``, ``host`` and ``started``, so that a later run can tell a stale temporary
    folder from a live one. The finished output keeps only the tool, so that equal inputs
    give byte-identical outputs."""
    marker = dict(tool=tool)
    if owner:
        marker.update(pid=os.getpid(), host=socket.gethostname(),
                      started=datetime.now(timezone.utc).isoformat(timespec='seconds'))
    (folder / MARKER).write_text(json.dumps(marker, indent=1) + '\n')


@contextmanager
def atomic_dir(out_dir: Path, overwrite: bool = False, *, tool: str,
               inputs: Sequence[Optional[Path]] = ()) -> Iterator[Path]:
    """Yield a temporary folder next to ``out_dir``; swap it in as ``out_dir`` on success.

    Args:
        out_dir: the output folder.
        overwrite: replace an existing ``out_dir`` (see :func:`check_replaceable`).
        tool: name of the writing tool, recorded in the output's :data:`MARKER`.
        inputs: every file or folder the tool reads; an ``out_dir`` equal to one or
            containing one is refused (:func:`check_not_input`).

    On any exception the temporary folder is deleted and ``out_dir`` is left untouched, so
    no half-written dataset is ever visible; Ctrl-C raises :class:`Interrupted`. The old
    ``out_dir`` is removed only after the new one is in place.
    """
    out_dir = Path(out_dir).resolve()
    check_output(out_dir, overwrite, inputs)
    remove_stale_temps(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f'.{out_dir.name}.tmp-', dir=out_dir.parent))
    try:
        tmp.chmod(0o755)
        _write_marker(tmp, tool, owner=True)
        yield tmp
        _write_marker(tmp, tool, owner=False)
    except KeyboardInterrupt:
        shutil.rmtree(tmp, ignore_errors=True)
        state = 'is unchanged' if out_dir.exists() else 'was not created'
        raise Interrupted(f'interrupted while writing {out_dir}; nothing was written '
                          f'({out_dir} {state})') from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out_dir.exists():
        old = out_dir.parent / f'.{out_dir.name}.old-{uuid.uuid4().hex[:8]}'
        out_dir.rename(old)
    tmp.rename(out_dir)
    if old is not None:
        try:
            shutil.rmtree(old, ignore_errors=True)
        except KeyboardInterrupt:
            raise Interrupted(f'{out_dir} was written; interrupted while removing the copy it '
                              f'replaced, {old} (the next run removes it)') from None
