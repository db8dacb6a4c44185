"""Write pictures of samples with all their labels (boxes, input | reference, seg, depth...).

Example:
    python data_tools/browse_dataset.py data/underwater_bench work_dirs/browse --num 20
"""
import argparse
import sys
from pathlib import Path

from mtlunder.data_converters import browse_dataset
from mtlunder.data_converters.cli import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', type=Path)
    parser.add_argument('out', type=Path)
    parser.add_argument('--num', type=int, default=20)
    parser.add_argument('--split', help='only this split')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output written by an mtlunder tool '
                        '(any other non-empty folder, or one holding an input, is refused)')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


if __name__ == '__main__':
    args = parse_args()
    sys.exit(run_tool(lambda: browse_dataset(args.root, args.out, args.num, args.split,
                                             args.overwrite, not args.no_progress)))
