"""What ``make demo`` and ``make demo-real`` run: build the benchmark if absent, train the
CPU demo config, evaluate the best checkpoint, print the metrics and write a picture grid.

``make demo``: the synthetic benchmark. ``make demo-real`` (``--real``): the real mixed
benchmark built from ``../shared/data`` (RUIE-UTTS detection + LSUI and EUVP pairs); without
that folder it prints how to build the benchmark from your own downloads.

Every step is the user-facing command, printed before it runs::

    python tools/run_demo.py [--real] [--config CONFIG] [--work-dir DIR] [--data DIR]
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
#: (config, work dir, data root) of the synthetic and the real demo
DEMOS = dict(
    synthetic=('configs/squad/squad-retinanet_r18_demo_underwater.py', 'work_dirs/demo',
               'data/underwater_synth'),
    real=('configs/squad/squad-retinanet_r18_demo_underwater-real.py', 'work_dirs/demo_real',
          'data/underwater_real_demo'))
#: what the real demo prints, with the images each key is computed on
REAL_KEYS = (
    ('coco/bbox_mAP', 'UTTS val (detection-labelled images only)'),
    ('coco/bbox_mAP_50', 'UTTS val (detection-labelled images only)'),
    ('enh/psnr', 'LSUI / EUVP val pairs'), ('enh/input_psnr', 'LSUI / EUVP val pairs'),
    ('enh/ssim', 'LSUI / EUVP val pairs'), ('enh/input_ssim', 'LSUI / EUVP val pairs'),
    ('enh/uiqm', 'UTTS val, enhanced'), ('enh/input_uiqm', 'UTTS val, input'),
    ('enh/uciqe', 'UTTS val, enhanced'), ('enh/input_uciqe', 'UTTS val, input'),
    ('combined/score', 'best-checkpoint score'))
OWN_DOWNLOADS = """../shared/data is not here, so the real demo cannot build its benchmark.
With your own downloads (DUO detection, UIEB and LSUI pairs under data/raw/), build the
real benchmark and train the main config:

    python data_tools/build_underwater_benchmark.py data/underwater_real \\
      --det duo_train:coco:data/raw/DUO/annotations/instances_train.json:\\
data/raw/DUO/images/train \\
      --det duo_test:coco:data/raw/DUO/annotations/instances_test.json:\\
data/raw/DUO/images/test \\
      --enh uieb:uieb:data/raw/UIEB --enh lsui:lsui:data/raw/LSUI --split 0.8 0.1 0.1
    python tools/train.py configs/squad/underwater_det_enh.py

(docs/data_preparation.md, "Real underwater data", lists the other sources.)"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--real', action='store_true',
                        help='the real-data demo on the mixed benchmark of ../shared/data')
    parser.add_argument('--shared', default='../shared/data',
                        help='folder of the real samples (--real)')
    parser.add_argument('--config')
    parser.add_argument('--work-dir')
    parser.add_argument('--data')
    parser.add_argument('--num-images', type=int, default=600,
                        help='synthetic images to generate')
    parser.add_argument('--grid-rows', type=int, default=6)
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to train.py and test.py')
    args = parser.parse_args()
    config, work_dir, data = DEMOS['real' if args.real else 'synthetic']
    args.config = args.config or config
    args.work_dir = args.work_dir or work_dir
    args.data = args.data or data
    return args


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


def write_grid(vis_dir: str, out_file: str, rows: int, pattern: str = '*.png') -> int:
    """Stack the first ``rows`` picture rows written by ``--show-dir`` (files matching
    ``pattern`` under ``vis_dir``) into ``out_file``."""
    import cv2
    import numpy as np

    paths = sorted(glob.glob(osp.join(vis_dir, pattern), recursive=True))[:rows]
    if not paths:
        raise FileNotFoundError(f'no pictures in {vis_dir}')
    images = [cv2.imread(p) for p in paths]
    width = max(im.shape[1] for im in images)
    images = [cv2.copyMakeBorder(im, 0, 4, 0, width - im.shape[1], cv2.BORDER_CONSTANT)
              for im in images]
    cv2.imwrite(out_file, np.concatenate(images, axis=0))
    return len(images)


def build_real_benchmark(py: str, shared: str, data: str) -> float:
    """Build the mixed benchmark of the shared samples; its wall time in seconds."""
    return run([py, 'data_tools/build_underwater_benchmark.py', data,
                '--det', f'ruie_utts:voc:{shared}/ruie_utts', '--map', 'urchin=echinus',
                '--enh', f'lsui:generic:{shared}/lsui_pairs',
                '--enh', f'euvp:generic:{shared}/euvp_pairs', '--split', '0.8', '0.2'])


def main():
    args = parse_args()
    if args.real and not osp.isdir(args.shared):
        print(OWN_DOWNLOADS)
        return 2
    py = sys.executable
    timings = {}
    data_options = [f'train_dataloader.dataset.data_root={args.data}/',
                    f'val_dataloader.dataset.data_root={args.data}/',
                    f'test_dataloader.dataset.data_root={args.data}/',
                    f'val_evaluator.metrics.metrics.0.ann_file={args.data}/annotations/val.json',
                    f'test_evaluator.metrics.metrics.0.ann_file={args.data}/annotations/val.json']
    options = ['--cfg-options', *data_options, *args.cfg_options]
    if args.real and not osp.isfile(osp.join(ROOT, args.data, 'annotations', 'val.json')):
        timings['build'] = build_real_benchmark(py, args.shared, args.data)
    elif not osp.isfile(osp.join(ROOT, args.data, 'annotations', 'val.json')):
        timings['generate'] = run([py, 'data_tools/synth_underwater.py', '--out', args.data,
                                   '--num-images', str(args.num_images), '--size', '256', '256'])
    timings['train'] = run([py, 'tools/train.py', args.config, '--work-dir', args.work_dir,
                            *options])
    work_dir = osp.join(ROOT, args.work_dir)
    ckpt = best_checkpoint(work_dir)
    # the real demo's grid shows UTTS frames, which need not be among the first pictures
    every_picture = ['default_hooks.visualization.max_images=None'] if args.real else []
    timings['test'] = run([py, 'tools/test.py', args.config, ckpt, '--work-dir', args.work_dir,
                           '--show-dir', 'vis', *options, *every_picture])
    metrics = latest_metrics(work_dir)
    vis_dirs = sorted(glob.glob(osp.join(work_dir, '*', 'vis')), key=osp.getmtime)
    grid = osp.join(work_dir, 'demo_grid.png')
    if args.real:
        rows = write_grid(vis_dirs[-1], grid, args.grid_rows, 'ruie_utts/**/*.png')
        print_real(metrics, ckpt, grid, rows, timings)
        return 0
    rows = write_grid(vis_dirs[-1], grid, args.grid_rows)

    print('\n== mtlunder demo ==')
    print(f'checkpoint: {osp.relpath(ckpt, ROOT)}')
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'enh/psnr', 'enh/input_psnr',
                'enh/ssim', 'enh/input_ssim', 'seg/mIoU', 'seg/aAcc', 'depth/rmse',
                'depth/abs_rel', 'depth/delta1', 'combined/score'):
        if key in metrics:
            print(f'{key:>18}: {metrics[key]:.4f}')
    if 'enh/psnr' in metrics and 'enh/input_psnr' in metrics:
        print(f'{"PSNR gain (dB)":>18}: {metrics["enh/psnr"] - metrics["enh/input_psnr"]:.2f}')
    print(f'picture grid ({rows} val images, each: true boxes | reference above predicted '
          f'boxes | enhanced): {osp.relpath(grid, ROOT)}')
    print('wall time (s): ' + ', '.join(f'{k} {v:.0f}' for k, v in timings.items()))
    return 0


def print_real(metrics: dict, ckpt: str, grid: str, rows: int, timings: dict) -> None:
    print('\n== mtlunder real-data demo ==')
    print(f'checkpoint: {osp.relpath(ckpt, ROOT)}')
    for key, where in REAL_KEYS:
        if key in metrics:
            print(f'{key:>18}: {metrics[key]:.4f}   ({where})')
    for name, out, inp in (('PSNR gain (dB)', 'enh/psnr', 'enh/input_psnr'),
                           ('UIQM gain', 'enh/uiqm', 'enh/input_uiqm'),
                           ('UCIQE gain', 'enh/uciqe', 'enh/input_uciqe')):
        if out in metrics and inp in metrics:
            print(f'{name:>18}: {metrics[out] - metrics[inp]:+.3f}')
    print(f'picture grid ({rows} real UTTS val frames, each: true boxes above predicted '
          f'boxes | enhanced): {osp.relpath(grid, ROOT)}')
    print('wall time (s): ' + ', '.join(f'{k} {v:.0f}' for k, v in timings.items()))


if __name__ == '__main__':
    os.chdir(ROOT)
    sys.exit(main())
