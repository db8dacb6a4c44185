"""Build the multi-task underwater benchmark (det + enh) from any number of sources.

Example (the shared samples):
    python data_tools/build_underwater_benchmark.py data/underwater_bench \
        --det ruie_utts:voc:../shared/data/ruie_utts --map urchin=echinus \
        --enh lsui:generic:../shared/data/lsui_pairs --enh euvp:generic:../shared/data/euvp_pairs \
        --rgbd nyud:../shared/data/nyud_rgbd_metric --synthetic 100 --split 0.8 0.1 0.1
"""
import argparse
import sys
from pathlib import Path

from mtlunder.data_converters import (PAIR_LAYOUTS, UNDERWATER_CLASSES, SourceSpec,
                                      build_underwater_benchmark, parse_class_map)
from mtlunder.data_converters.cli import run_tool
from mtlunder.data_converters.underwater_benchmark import DET_FORMATS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', type=Path, help='output benchmark folder')
    parser.add_argument('--det', action='append', default=[], metavar='NAME:FORMAT:PATH[:EXTRA]',
                        help=f'detection source, FORMAT in {DET_FORMATS}; EXTRA = YOLO names '
                        'file or COCO image root')
    parser.add_argument('--enh', action='append', default=[], metavar='NAME:LAYOUT:PATH',
                        help=f'paired enhancement source, LAYOUT in auto, {list(PAIR_LAYOUTS)}')
    parser.add_argument('--rgbd', action='append', default=[], metavar='NAME:PATH',
                        help='in-air RGB-D frames (NYUD-v2) rendered through the formation model')
    parser.add_argument('--synthetic', type=int, default=0, metavar='N',
                        help='add N images of the synthetic generator')
    parser.add_argument('--synthetic-size', type=int, default=256)
    parser.add_argument('--split', type=float, nargs='+', default=[0.8, 0.1, 0.1],
                        help='train val [test] fractions')
    parser.add_argument('--classes', default=','.join(UNDERWATER_CLASSES),
                        help='detection categories (ids 1..K in this order)')
    parser.add_argument('--map', nargs='*', default=[], metavar='SRC=DST')
    parser.add_argument('--drop-unknown', action='store_true')
    parser.add_argument('--keep-unlabelled', action='store_true',
                        help='keep detection images without an annotation file (no "det")')
    parser.add_argument('--resize-reference', action='store_true',
                        help='resize references whose size differs from their input')
    parser.add_argument('--water-types',
                        help='comma-separated Jerlov types for --rgbd frames (default: the '
                        'synthetic generator\'s DEFAULT_WATER_TYPES)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output written by an mtlunder tool '
                        '(any other non-empty folder, or one holding an input, is refused)')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def main(args):
    return build_underwater_benchmark(
        args.out,
        det_sources=[SourceSpec.parse(s, DET_FORMATS) for s in args.det],
        enh_sources=[SourceSpec.parse(s, ('auto', *PAIR_LAYOUTS)) for s in args.enh],
        rgbd_sources=[SourceSpec.parse(s, ('rgbd',)) for s in args.rgbd],
        synthetic=args.synthetic, synthetic_size=args.synthetic_size, split=args.split,
        classes=args.classes.split(','), class_map=parse_class_map(args.map),
        drop_unknown=args.drop_unknown, keep_unlabelled=args.keep_unlabelled,
        resize_reference=args.resize_reference,
        water_types=args.water_types.split(',') if args.water_types else None,
        seed=args.seed, overwrite=args.overwrite, show_progress=not args.no_progress)


if __name__ == '__main__':
    sys.exit(run_tool(lambda: main(parse_args())))
