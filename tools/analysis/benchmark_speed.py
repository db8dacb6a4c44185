"""Training-step time and inference throughput of one or more configs, measured in one run
and printed as a table (``mtlunder.analysis.model_timing``).

``python tools/analysis/benchmark_speed.py CONFIG [CONFIG ...] [--shape H W] [--batch-size B]
[--input random|real] [--warmup N] [--repeats N] [--device cpu|cuda] [--num-threads N]
[--cfg-options ...]``
"""
import argparse


def main() -> None:
    import torch
    from mmengine.config import DictAction

    from mtlunder.analysis.model_timing import format_table, run_benchmark

    parser = argparse.ArgumentParser(description='Train-step time and inference speed')
    parser.add_argument('configs', nargs='+', help='config files, measured in this order')
    parser.add_argument('--shape', type=int, nargs=2, default=[512, 512], metavar=('H', 'W'),
                        help='image size of --input random')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--input', choices=['random', 'real'], default='random',
                        help="random images and labels, or the config's train_dataloader")
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--num-threads', type=int,
                        help='torch intra-op CPU threads (default: torch default)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of every config, key=value')
    args = parser.parse_args()
    if args.warmup < 0 or args.repeats < 1 or args.batch_size < 1:
        parser.error('need --warmup >= 0, --repeats >= 1, --batch-size >= 1')

    rows = run_benchmark(args)
    print()
    print(format_table(rows, args, torch.device(args.device)))


if __name__ == '__main__':
    main()
