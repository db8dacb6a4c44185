"""Plot the gradient-conflict curves logged by ``GradConflictHook``.

``python tools/analysis/plot_grad_conflict.py WORK_DIR [--out FILE.png]`` reads
``WORK_DIR/vis_data/scalars.json`` or, when absent, the newest
``WORK_DIR/<timestamp>/vis_data/scalars.json`` (mmengine LocalVisBackend), and plots every
``conflict/cos_<a>_<b>`` (top) and ``conflict/frac_neg_<a>_<b>`` (bottom) over iterations
(:mod:`mtlunder.visualization.grad_conflict`).
"""
import argparse
import os.path as osp


def main() -> None:
    parser = argparse.ArgumentParser(description='Plot task-gradient conflicts of a run')
    parser.add_argument('work_dir', help='work dir of a run trained with GradConflictHook')
    parser.add_argument('--out', help='output PNG (default WORK_DIR/grad_conflict.png)')
    args = parser.parse_args()
    from mtlunder.visualization.grad_conflict import (find_scalars, load_conflict_scalars,
                                                      plot_conflicts)

    path = find_scalars(args.work_dir)
    series = load_conflict_scalars(path)
    out_file = args.out or osp.join(args.work_dir, 'grad_conflict.png')
    plot_conflicts(series, out_file)
    for key, (steps, values) in series.items():
        print(f'{key:<28} {len(steps):>5} points, last (iter {steps[-1]}): {values[-1]:+.4f}')
    print(f'read {path}\nsaved {out_file}')


if __name__ == '__main__':
    main()
