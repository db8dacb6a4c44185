"""Convert NYUD-v2 to the dense multi-task format (see docs/data_preparation.md).

Examples:
    python data_tools/convert_nyud.py mat nyu_depth_v2_labeled.mat data/nyud \
        --splits splits.mat --class-mapping classMapping40.mat
    python data_tools/convert_nyud.py mt NYUD_MT data/nyud
    python data_tools/convert_nyud.py png ../shared/data/nyud_samples data/nyud_samples --split val
"""
import argparse
import sys
from pathlib import Path

from mtlunder.data_converters import convert_nyud_mat, convert_nyud_mt, convert_nyud_png
from mtlunder.data_converters.cli import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('layout', choices=['mat', 'mt', 'png'],
                        help='mat: official labelled .mat; mt: NYUD_MT folders; png: refinenet '
                        'PNG frames')
    parser.add_argument('source', type=Path)
    parser.add_argument('out', type=Path)
    parser.add_argument('--splits', type=Path, help='mat: splits.mat (trainNdxs/testNdxs)')
    parser.add_argument('--class-mapping', type=Path,
                        help='mat: classMapping40.mat (mapClass, 894 -> 40)')
    parser.add_argument('--split', default='val', help='png: split name of every frame')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output written by an mtlunder tool '
                        '(any other non-empty folder, or one holding an input, is refused)')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def main(args):
    progress = not args.no_progress
    if args.layout == 'mat':
        return convert_nyud_mat(args.source, args.out, args.splits, args.class_mapping,
                                args.overwrite, progress)
    if args.layout == 'mt':
        return convert_nyud_mt(args.source, args.out, args.overwrite, progress)
    return convert_nyud_png(args.source, args.out, args.split, args.overwrite, progress)


if __name__ == '__main__':
    sys.exit(run_tool(lambda: main(parse_args())))
