"""Shared entry point of the data_tools scripts: run, print the report, map errors to exit
codes (0 ok, 1 checker errors, 2 bad input or arguments, 130 interrupted by Ctrl-C)."""
import sys
from typing import Any, Callable

from .io import DataError
from .report import Report


def run_tool(fn: Callable[[], Any]) -> int:
    """Run ``fn``; print its summary if it returns a :class:`Report`; return the exit status.

    Ctrl-C prints one line (what was interrupted, what was left on disk) instead of a
    traceback; outputs are written through :func:`.output.atomic_dir`, so an interrupted
    tool has written nothing.
    """
    try:
        report = fn()
    except (DataError, FileExistsError, FileNotFoundError, ValueError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        print(str(err) or 'interrupted (Ctrl-C) before any output was written',
              file=sys.stderr)
        return 130
    if not isinstance(report, Report):
        return 0
    print(report.summary())
    return 1 if report.num_errors else 0
