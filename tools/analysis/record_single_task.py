"""Record the results of single-task runs for the multi-task delta and AMTL / DTP.

``python tools/analysis/record_single_task.py WORK_DIR [WORK_DIR ...]
[--out single_task_results.json] [--checkpoint best|last]`` reads each single-task run's
work dir (its checkpoint, the validation record of that checkpoint, its config) and writes
the json atomically: per task the metrics, the config and checkpoint paths with their
sha256, the work dir (``mtlunder.evaluation.record_single_task``, docs/metrics.md).
"""
import argparse


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Record single-task results')
    parser.add_argument('work_dirs', nargs='+', metavar='WORK_DIR',
                        help='work dirs of single-task runs, one per task')
    parser.add_argument('--out', default='single_task_results.json', help='json to write')
    parser.add_argument('--checkpoint', choices=('best', 'last'), default='best',
                        help='the best_*.pth or the last_checkpoint of each run')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mtlunder.evaluation import record_single_task

    results = record_single_task(args.work_dirs, args.out, args.checkpoint)
    for task, entry in results['tasks'].items():
        validation = entry['validation']
        print(f'{task}: {entry["checkpoint"]["path"]} ({validation["unit"]} '
              f'{validation["step"]}, sha256 {entry["checkpoint"]["sha256"][:12]}): '
              + ', '.join(f'{k} {v:.4f}' for k, v in entry['metrics'].items()))
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
