"""Convert PASCAL VOC 2007/2012 (detection + segmentation) to the dense multi-task format.

Example:
    python data_tools/convert_voc.py data/VOCdevkit data/voc
"""
import argparse
import sys
from pathlib import Path

from mtlunder.data_converters import convert_voc
from mtlunder.data_converters.cli import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('devkit', type=Path, help='VOCdevkit (with VOC20xx/) or one VOC20xx')
    parser.add_argument('out', type=Path)
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output written by an mtlunder tool '
                        '(any other non-empty folder, or one holding an input, is refused)')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


if __name__ == '__main__':
    args = parse_args()
    sys.exit(run_tool(lambda: convert_voc(args.devkit, args.out, args.overwrite,
                                          not args.no_progress)))
