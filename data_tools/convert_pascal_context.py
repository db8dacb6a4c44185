"""Convert PASCAL-Context in the PASCAL_MT layout to the dense multi-task format.

Examples:
    # default: the bundled 59-class mapping of the LabelMap (60 classes, 0 = background)
    python data_tools/convert_pascal_context.py data/PASCAL_MT data/pascal_context
    # the 21 VOC classes of the semseg/ PNGs (ASTMT / MTI-Net semseg)
    python data_tools/convert_pascal_context.py data/PASCAL_MT data/pascal_context_voc21 \
        --seg-source voc21
    # your own LabelMap mapping
    python data_tools/convert_pascal_context.py data/PASCAL_MT data/pascal_context_own \
        --seg-source mapping --seg-mapping my_mapping.txt --num-seg-classes 33
"""
import argparse
import sys
from pathlib import Path

from mtlunder.data_converters import convert_pascal_context
from mtlunder.data_converters.cli import run_tool
from mtlunder.data_converters.pascal import SEG_SOURCES


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog='\n'.join(f'  {k}: {v}' for k, v in
                                                      SEG_SOURCES.items()))
    parser.add_argument('root', type=Path, help='PASCAL_MT folder')
    parser.add_argument('out', type=Path)
    parser.add_argument('--seg-source', choices=list(SEG_SOURCES),
                        help="segmentation labels of every sample (default: 'mapping' with "
                             "--seg-mapping, else 'context59'; see below)")
    parser.add_argument('--seg-mapping', type=Path,
                        help='text file of "LabelMap_id class_id" lines (unmapped -> 255); '
                             'with --seg-source mapping')
    parser.add_argument('--num-seg-classes', type=int,
                        help='number of classes of --seg-mapping (checks the range)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output written by an mtlunder tool '
                        '(any other non-empty folder, or one holding an input, is refused)')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


if __name__ == '__main__':
    args = parse_args()
    sys.exit(run_tool(lambda: convert_pascal_context(
        args.root, args.out, seg_mapping=args.seg_mapping,
        num_seg_classes=args.num_seg_classes, overwrite=args.overwrite,
        show_progress=not args.no_progress, seg_source=args.seg_source)))
