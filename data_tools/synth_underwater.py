"""Generate the synthetic underwater detection + enhancement + segmentation + depth benchmark.

Example::

    python data_tools/synth_underwater.py --out data/underwater_synth --num-images 600 \\
        --size 320 320 --seed 0 --val-fraction 0.2 --workers 1
"""
import argparse
import sys


def parse_args(argv=None) -> argparse.Namespace:
    from mtlunder.synthesis import DEFAULT_WATER_TYPES, JERLOV_TYPES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/underwater_synth', help='dataset root to create')
    parser.add_argument('--num-images', type=int, default=600)
    parser.add_argument('--size', type=int, nargs=2, default=(320, 320), metavar=('H', 'W'),
                        help='image height and width in pixels')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--val-fraction', type=float, default=0.2)
    parser.add_argument('--workers', type=int, default=1, help='rendering processes')
    parser.add_argument('--water-types', nargs='+', default=list(DEFAULT_WATER_TYPES),
                        choices=list(JERLOV_TYPES), metavar='TYPE',
                        help=f'Jerlov types to draw from ({", ".join(JERLOV_TYPES)})')
    parser.add_argument('--depth-range', type=float, nargs=2, default=(3.0, 5.0),
                        metavar=('MIN', 'MAX'), help='depth below the surface in metres')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing dataset at --out (only a dataset written by '
                        'an mtlunder tool is ever replaced)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mtlunder.data_converters.cli import run_tool
    from mtlunder.synthesis.generator import generate_benchmark, tune_allocator

    tune_allocator()
    return run_tool(lambda: generate_benchmark(
        args.out, args.num_images, size=tuple(args.size), seed=args.seed,
        val_fraction=args.val_fraction, workers=args.workers, overwrite=args.overwrite,
        water_types=args.water_types, depth_range=tuple(args.depth_range)))


if __name__ == '__main__':
    sys.exit(main())
