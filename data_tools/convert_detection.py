"""Convert a detection dataset (Pascal VOC xml, YOLO txt or COCO json) to COCO json or YOLO.

Examples:
    python data_tools/convert_detection.py voc ../shared/data/ruie_utts --out ruie.json
    python data_tools/convert_detection.py yolo data/mydet --names data/mydet/data.yaml \
        --map urchin=echinus --out mydet.json
    python data_tools/convert_detection.py coco ann.json --image-root images --to yolo --out yolo/
"""
import argparse
import json
import sys
from pathlib import Path

from mtlunder.data_converters import (ClassResolver, Report, SourceSpec, parse_class_map,
                                      read_detection_source, read_names_file, to_coco, write_yolo)
from mtlunder.data_converters.cli import run_tool
from mtlunder.data_converters.detection import coco_box_counts
from mtlunder.data_converters.io import atomic_write_text
from mtlunder.data_converters.output import atomic_dir, check_output
from mtlunder.data_converters.report import format_table


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('format', choices=['voc', 'yolo', 'coco'])
    parser.add_argument('source', type=Path, help='dataset root (voc, yolo) or json (coco)')
    parser.add_argument('--out', type=Path, required=True,
                        help='output json (--to coco) or folder (--to yolo)')
    parser.add_argument('--to', choices=['coco', 'yolo'], default='coco')
    parser.add_argument('--names', type=Path, help='YOLO class names: data.yaml or text file')
    parser.add_argument('--image-root', type=Path, help='COCO input: folder of file_name')
    parser.add_argument('--classes', help='target class list, comma separated or a file '
                        '(default: the names found in the data)')
    parser.add_argument('--map', nargs='*', default=[], metavar='SRC=DST',
                        help='rename classes, e.g. --map urchin=echinus')
    parser.add_argument('--drop-unknown', action='store_true',
                        help='drop boxes of classes not in --classes (counted) instead of failing')
    parser.add_argument('--keep-unlabelled', action='store_true',
                        help='keep images without an annotation file, with no "det" task')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output written by an mtlunder tool '
                        '(any other non-empty folder, or one holding an input, is refused)')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def convert(args) -> Report:
    classes = None
    if args.classes:
        path = Path(args.classes)
        classes = read_names_file(path) if path.is_file() else args.classes.split(',')
    resolver = ClassResolver(classes, parse_class_map(args.map), args.drop_unknown)
    report = Report(f'{args.format} {args.source} -> {args.to} {args.out}')
    spec = SourceSpec('source', args.format, args.source,
                      args.names if args.format == 'yolo' else args.image_root)
    root = args.source if args.format != 'coco' else (args.image_root or args.source.parent)
    inputs = [spec.path, spec.extra, root]
    if args.to == 'yolo':
        check_output(args.out, args.overwrite, inputs)  # before reading the source
    records = read_detection_source(spec, resolver, report, args.keep_unlabelled,
                                    not args.no_progress)
    coco = to_coco(records, resolver.final_classes(),
                   lambda r: r.path.relative_to(root).as_posix())
    if args.to == 'coco':
        atomic_write_text(args.out, json.dumps(coco), overwrite=args.overwrite, inputs=inputs)
    else:
        with atomic_dir(args.out, args.overwrite, tool='convert_detection', inputs=inputs) as tmp:
            write_yolo(coco, root, tmp, not args.no_progress)
    counts = coco_box_counts(coco)
    report.tables = format_table(['class', 'boxes'], [[c, counts.get(c, 0)]
                                                      for c in resolver.final_classes()]
                                 + [['total', sum(counts.values())]])
    report.count('images written', len(coco['images']))
    return report


if __name__ == '__main__':
    sys.exit(run_tool(lambda: convert(parse_args())))
