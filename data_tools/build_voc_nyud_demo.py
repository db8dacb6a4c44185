"""Build the VOC + NYUD-v2 demo data from the public samples (real VOC boxes, stand-in VOC
masks painted from them, real NYUD-v2 depth; the output's README.md says which is which).

Example:
    python data_tools/build_voc_nyud_demo.py ../shared/data data/voc_nyud_demo
"""
import argparse
import sys
from pathlib import Path

from mtlunder.data_converters import build_voc_nyud_demo
from mtlunder.data_converters.cli import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('shared', type=Path, help='the ../shared/data folder of samples')
    parser.add_argument('out', type=Path, help='output folder (voc/, nyud/, README.md)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output written by an mtlunder tool '
                        '(any other non-empty folder, or one holding an input, is refused)')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


if __name__ == '__main__':
    args = parse_args()
    sys.exit(run_tool(lambda: build_voc_nyud_demo(args.shared, args.out, args.overwrite,
                                                  not args.no_progress)))
