"""Shared entry point of the data_tools scripts: run, print the report, map errors to exit
codes (0 ok, 1 checker errors, 2 bad input or arguments)."""
import sys
from typing import Callable

from .io import DataError
from .report import Report


def run_tool(fn: Callable[[], Report]) -> int:
    """Run ``fn``; print its report summary; return the process exit status."""
    try:
        report = fn()
    except (DataError, FileExistsError, FileNotFoundError, ValueError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    print(report.summary())
    return 1 if report.num_errors else 0
