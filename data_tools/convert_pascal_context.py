"""Convert PASCAL-Context in the PASCAL_MT layout to the dense multi-task format.

Example:
    python data_tools/convert_pascal_context.py data/PASCAL_MT data/pascal_context_mt
"""
import argparse
import sys
from pathlib import Path

from mtlunder.data_converters import convert_pascal_context
from mtlunder.data_converters.cli import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', type=Path, help='PASCAL_MT folder')
    parser.add_argument('out', type=Path)
    parser.add_argument('--seg-mapping', type=Path,
                        help='text file of "LabelMap_id class_id" lines (unmapped -> 255)')
    parser.add_argument('--num-seg-classes', type=int,
                        help='number of segmentation classes (checks the range)')
    parser.add_argument('--overwrite', action='store_true')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


if __name__ == '__main__':
    args = parse_args()
    sys.exit(run_tool(lambda: convert_pascal_context(
        args.root, args.out, args.seg_mapping, args.num_seg_classes, args.overwrite,
        not args.no_progress)))
