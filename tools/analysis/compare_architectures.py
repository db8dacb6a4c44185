"""Train, evaluate and measure several architectures on the same data and budget.

``python tools/analysis/compare_architectures.py [CONFIG ...] [--iters N] [--batch-size B]
[--num-threads T] [--conflict-interval K] [--shape H W] [--bench-batch-size B]
[--bench-repeats R] [--ratio-sizes HxW ...] [--work-dir DIR] [--out FILE.md] [--reuse-runs]
[--cfg-options ...]``

Default configs: the joint squad demo, the same on the SquadNet backbone, ETR neck, ETR-NLP
backbone, shared FPN, per-task FPN, single-task detector, single-task enhancer,
enhance-then-detect cascade. The steps and the report are described in
:mod:`mtlunder.analysis.architecture_comparison`.
"""
import argparse
import os.path as osp
import shlex
import sys

from mtlunder.analysis.architecture_comparison import (DEFAULT_CONFIGS, compare_architectures,
                                                       parse_size)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args():
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(description='Train, evaluate and time architectures')
    parser.add_argument('configs', nargs='*', default=DEFAULT_CONFIGS,
                        help='configs to compare (the first is the reference of ratios)')
    parser.add_argument('--iters', type=int, default=60, help='training iterations per config')
    parser.add_argument('--batch-size', type=int, default=8, help='training batch size')
    parser.add_argument('--num-workers', type=int, default=1, help='dataloader workers')
    parser.add_argument('--num-threads', type=int, default=1,
                        help='torch intra-op threads (training subprocesses and timing)')
    parser.add_argument('--conflict-interval', type=int, default=10,
                        help='GradConflictHook interval (multi-task models)')
    parser.add_argument('--shape', type=int, nargs=2, default=[256, 256], metavar=('H', 'W'),
                        help='input size of FLOP counting and timing')
    parser.add_argument('--bench-batch-size', type=int, default=4)
    parser.add_argument('--bench-warmup', type=int, default=1)
    parser.add_argument('--bench-repeats', type=int, default=5)
    parser.add_argument('--ratio-sizes', nargs='+', default=[], metavar='HxW',
                        help='also time the inference of the first config and of each cascade '
                        'at these input sizes (random input), e.g. 512x512')
    parser.add_argument('--work-dir', default='work_dirs/compare_architectures')
    parser.add_argument('--out', default='docs/architecture_comparison.md')
    parser.add_argument('--reuse-runs', action='store_true',
                        help='read back finished runs of identical short configs from the '
                        'work dir instead of training them again')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of every config, key=value')
    args = parser.parse_args()
    if min(args.iters, args.batch_size, args.num_threads, args.bench_batch_size,
           args.bench_repeats, args.conflict_interval) < 1 or args.bench_warmup < 0:
        parser.error('counts must be >= 1 (--bench-warmup >= 0)')
    for size in args.ratio_sizes:
        try:
            parse_size(size)
        except ValueError as e:
            parser.error(f'--ratio-sizes: {e}')
    return args


def main() -> None:
    args = parse_args()
    command = 'python ' + ' '.join(shlex.quote(a) for a in
                                   [osp.relpath(sys.argv[0], ROOT)] + sys.argv[1:])
    compare_architectures(args, command, osp.join(ROOT, 'tools', 'train.py'))


if __name__ == '__main__':
    main()
