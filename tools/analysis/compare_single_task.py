"""Print a multi-task run against the recorded single-task runs, with the multi-task delta.

``python tools/analysis/compare_single_task.py WORK_DIR --single-task
single_task_results.json [--checkpoint last|best] [--delta-keys TASK=KEY[,KEY] ...]``
reads the run's checkpoint and the validation record of that checkpoint as
``record_single_task.py`` does, and prints per task and metric the single-task value, the
multi-task value, the relative change ``(M_mt - M_st) / M_st``, its signed form (``+`` =
better; negated for lower-is-better metrics), each task's mean and ``delta_m``
(``mtlunder.evaluation.compare_run``, docs/metrics.md). ``--delta-keys`` defaults to the
``delta_keys`` of the run's ``MultiTaskDeltaMetric``.
"""
import argparse


def parse_delta_keys(items):
    """``['det=coco/bbox_mAP', 'depth=depth/rmse,depth/abs_rel']`` -> ``{task: [key]}``."""
    out = {}
    for item in items:
        task, sep, keys = item.partition('=')
        if not sep or not keys:
            raise argparse.ArgumentTypeError(f'--delta-keys wants TASK=KEY[,KEY], got {item!r}')
        out[task] = keys.split(',')
    return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Multi-task run vs single-task runs')
    parser.add_argument('work_dir', metavar='WORK_DIR', help='work dir of the multi-task run')
    parser.add_argument('--single-task', required=True,
                        help='single_task_results.json (tools/analysis/record_single_task.py)')
    parser.add_argument('--checkpoint', choices=('best', 'last'), default='last',
                        help='the last_checkpoint (default) or the best_*.pth of the run')
    parser.add_argument('--delta-keys', nargs='+', metavar='TASK=KEY[,KEY]',
                        help='metrics per task (default: the run\'s MultiTaskDeltaMetric)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mtlunder.evaluation import compare_run, format_comparison

    delta_keys = parse_delta_keys(args.delta_keys) if args.delta_keys else None
    print(format_comparison(compare_run(args.work_dir, args.single_task, delta_keys,
                                        args.checkpoint)))


if __name__ == '__main__':
    main()
