"""Cost of every balancer relative to equal weighting, measured in one run and printed as a
table (``mtlunder.analysis.balancer_timing``): median step time (process CPU time by default on
CPU, which other processes on a shared machine disturb far less than wall time) against
EW's, forward / backward passes through the shared encoder, the time inside the balancer's
own calls and peak memory.

Examples::

    python tools/analysis/benchmark_balancers.py                      # toy model, 2 tasks
    python tools/analysis/benchmark_balancers.py --num-tasks 3 --repeats 15
    python tools/analysis/benchmark_balancers.py \\
        --config configs/squad/squad-retinanet_r18_demo_underwater.py \\
        --data-root /tmp/underwater_synth/
    python tools/analysis/benchmark_balancers.py --threads 1 \\
        --config configs/voc_nyud/squad-retinanet_r18_demo_voc-nyud.py   # 3 tasks
"""
import argparse

import torch


def parse_args():
    from mmengine.config import DictAction

    from mtlunder.analysis.balancer_timing import default_methods

    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', help='config whose model and train batch to use '
                        '(default: a small built-in toy model)')
    parser.add_argument('--data-root', help='override the config dataset root')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. a mixture source\'s data_root: '
                        'train_dataloader.dataset.sources.voc_det.dataset.data_root=DIR')
    parser.add_argument('--methods', nargs='+', default=default_methods(),
                        help='registered balancer names (default: every one)')
    parser.add_argument('--repeats', type=int, default=11)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--size', type=int, default=64, help='toy image size')
    parser.add_argument('--num-tasks', type=int, default=2, help='toy model tasks')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=0, help='torch threads (0: keep)')
    parser.add_argument('--clock', choices=['cpu', 'wall'], default=None,
                        help='cpu: process CPU time (robust on a shared machine, use with '
                        '--threads 1); wall: elapsed time. Default: cpu on CPU, wall on CUDA')
    return parser.parse_args()


def main():
    from mtlunder.analysis.balancer_timing import print_summary, print_table, run

    args = parse_args()
    if args.clock is None:
        args.clock = 'wall' if args.device.startswith('cuda') else 'cpu'
    if args.threads:
        torch.set_num_threads(args.threads)
    if 'EW' not in args.methods:
        args.methods = ['EW'] + args.methods
    rows = run(args)
    what = args.config or (f'toy conv model, {args.num_tasks} tasks, '
                           f'{args.batch_size}x3x{args.size}x{args.size}')
    print_table(rows, f'{what}; device {args.device}; {args.clock} time, '
                      f'{torch.get_num_threads()} thread(s); median of {args.repeats} '
                      'interleaved repeats')
    print_summary(rows)


if __name__ == '__main__':
    main()
