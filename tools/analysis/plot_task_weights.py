"""Plot the task weights of a balancer run (``train/weight_<task>``, logged by BalancerHook).

Example:
    python tools/analysis/plot_task_weights.py work_dirs/voc_nyud_demo/amtl
"""
import argparse
import os.path as osp


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir', help='work dir of the run (its newest scalars.json)')
    parser.add_argument('--out', help='png to write (default: WORK_DIR/task_weights.png)')
    args = parser.parse_args()
    from mtlunder.visualization.task_weights import plot_task_weights

    out = plot_task_weights(args.work_dir, args.out or osp.join(args.work_dir,
                                                                 'task_weights.png'))
    print(f'task weights: {out}')


if __name__ == '__main__':
    main()
