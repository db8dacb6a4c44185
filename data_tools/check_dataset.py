"""Check a benchmark or dense dataset file by file; exit status 1 when anything is wrong.

Example:
    python data_tools/check_dataset.py data/underwater_bench
"""
import argparse
import sys
from pathlib import Path

from mtlunder.data_converters import check_dataset
from mtlunder.data_converters.cli import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', type=Path)
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


if __name__ == '__main__':
    args = parse_args()
    sys.exit(run_tool(lambda: check_dataset(args.root, not args.no_progress)))
