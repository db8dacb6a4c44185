"""What ``make demo`` runs: generate the synthetic benchmark if absent, train the CPU demo
config, evaluate the best checkpoint, print the metrics and write a picture grid.

Every step is the user-facing command, printed before it runs::

    python tools/run_demo.py [--config CONFIG] [--work-dir DIR] [--data DIR] [--num-images N]
"""
import argparse
import glob
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = 'configs/squad/squad-retinanet_r18_demo_underwater.py'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data', default='data/underwater_synth')
    parser.add_argument('--num-images', type=int, default=600)
    parser.add_argument('--grid-rows', type=int, default=6)
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to train.py and test.py')
    return parser.parse_args()


def run(cmd: list) -> float:
    """Run ``cmd`` from the project root; return its wall time in seconds."""
    print('\n$ ' + ' '.join(shlex.quote(c) for c in cmd), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True)
    return time.perf_counter() - start


def best_checkpoint(work_dir: str) -> str:
    found = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')), key=osp.getmtime)
    if not found:
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            return f.read().strip()
    return found[-1]


def latest_metrics(work_dir: str) -> dict:
    """The metrics of the most recent test run in ``work_dir`` (mmengine's json log)."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.json')), key=osp.getmtime)
    for path in reversed(logs):
        with open(path) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        if lines and any(k.startswith('coco/') for k in lines[-1]):
            return lines[-1]
    raise FileNotFoundError(f'no test metrics found under {work_dir}')


def write_grid(vis_dir: str, out_file: str, rows: int) -> int:
    """Stack the first ``rows`` picture rows written by ``--show-dir`` into ``out_file``."""
    import cv2
    import numpy as np

    paths = sorted(glob.glob(osp.join(vis_dir, '*.png')))[:rows]
    if not paths:
        raise FileNotFoundError(f'no pictures in {vis_dir}')
    images = [cv2.imread(p) for p in paths]
    width = max(im.shape[1] for im in images)
    images = [cv2.copyMakeBorder(im, 0, 4, 0, width - im.shape[1], cv2.BORDER_CONSTANT)
              for im in images]
    cv2.imwrite(out_file, np.concatenate(images, axis=0))
    return len(images)


def main():
    args = parse_args()
    py = sys.executable
    timings = {}
    data_options = [f'train_dataloader.dataset.data_root={args.data}/',
                    f'val_dataloader.dataset.data_root={args.data}/',
                    f'test_dataloader.dataset.data_root={args.data}/',
                    f'val_evaluator.metrics.metrics.0.ann_file={args.data}/annotations/val.json',
                    f'test_evaluator.metrics.metrics.0.ann_file={args.data}/annotations/val.json']
    options = ['--cfg-options', *data_options, *args.cfg_options]
    if not osp.isfile(osp.join(ROOT, args.data, 'annotations', 'val.json')):
        timings['generate'] = run([py, 'data_tools/synth_underwater.py', '--out', args.data,
                                   '--num-images', str(args.num_images), '--size', '256', '256'])
    timings['train'] = run([py, 'tools/train.py', args.config, '--work-dir', args.work_dir,
                            *options])
    work_dir = osp.join(ROOT, args.work_dir)
    ckpt = best_checkpoint(work_dir)
    timings['test'] = run([py, 'tools/test.py', args.config, ckpt, '--work-dir', args.work_dir,
                           '--show-dir', 'vis', *options])
    metrics = latest_metrics(work_dir)
    vis_dirs = sorted(glob.glob(osp.join(work_dir, '*', 'vis')), key=osp.getmtime)
    grid = osp.join(work_dir, 'demo_grid.png')
    rows = write_grid(vis_dirs[-1], grid, args.grid_rows)

    print('\n== mtlunder demo ==')
    print(f'checkpoint: {osp.relpath(ckpt, ROOT)}')
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'enh/psnr', 'enh/input_psnr',
                'enh/ssim', 'enh/input_ssim', 'combined/score'):
        if key in metrics:
            print(f'{key:>18}: {metrics[key]:.4f}')
    if 'enh/psnr' in metrics and 'enh/input_psnr' in metrics:
        print(f'{"PSNR gain (dB)":>18}: {metrics["enh/psnr"] - metrics["enh/input_psnr"]:.2f}')
    print(f'picture grid ({rows} rows: input + predicted boxes | enhanced | reference + true '
          f'boxes): {osp.relpath(grid, ROOT)}')
    print('wall time (s): ' + ', '.join(f'{k} {v:.0f}' for k, v in timings.items()))


if __name__ == '__main__':
    os.chdir(ROOT)
    main()
