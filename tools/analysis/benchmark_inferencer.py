"""Frames per second of :class:`mtlunder.apis.MultiTaskInferencer` per model family:
forward only, and with every output written.

``python tools/analysis/benchmark_inferencer.py [CONFIG ...] [--checkpoint CKPT]
[--shape H W] [--num-frames N] [--repeats R] [--num-threads T] [--batch-size B]
[--score-thr S] [--dense-boxes] [--inputs]``

Without CONFIG: one config per model family (:data:`FAMILIES`: det + enh, the 4-task
underwater model, NYUD-v2, PASCAL-Context). Renders ``N`` synthetic underwater frames
(``mtlunder.synthesis.render_sample``, seed 0) at ``H x W`` (default 480x640) and times,
per config: the bare forward pass (test pipeline + ``model.test_step``), the inferencer on
the BGR arrays without writing, and with every output written (``vis/`` picture of every
task, each task's files, ``preds/`` JSON). ``--inputs`` adds the JPEG folder and the
``mp4v`` video, each without and with writing. One warm-up call each, then ``R`` rounds
that run every mode once (interleaved, so a slow spell of a shared machine hits all alike);
the table gives the median per frame and the best round. The 1-minute load average
before and after is printed: on a shared 2-core machine, other jobs make 2-thread timings
several times slower, so trust only a run with a load near 0.

Without ``--checkpoint`` the models have initialised (untrained) weights: the speed is
that of the architecture, but an untrained detector keeps no box (scores at the 0.01 focal
prior). ``--dense-boxes`` zeroes the classification bias so that every frame gets the
model's ``max_per_img`` boxes (100), the load of a trained model on busy images, which
also loads NMS and drawing.
"""
import argparse
import os
import os.path as osp
import tempfile


def main():
    from mtlunder.analysis.inferencer_timing import (FAMILIES, make_frames, print_table,
                                                     time_config)

    parser = argparse.ArgumentParser(description='Frames per second of MultiTaskInferencer')
    parser.add_argument('configs', nargs='*', default=list(FAMILIES),
                        help='config files or metafile model names (default: one CPU demo '
                        'config per model family)')
    parser.add_argument('--checkpoint', help='weights (default: initialised, untrained)')
    parser.add_argument('--shape', type=int, nargs=2, default=[480, 640], metavar=('H', 'W'))
    parser.add_argument('--num-frames', type=int, default=8)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--num-threads', type=int, default=2)
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--dense-boxes', action='store_true',
                        help='zero the classification bias: max_per_img boxes every frame')
    parser.add_argument('--inputs', action='store_true',
                        help='also time the JPEG folder and the mp4 video inputs')
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.num_threads)
    load_before = os.getloadavg()[0]
    results = []
    with tempfile.TemporaryDirectory(prefix='bench_inferencer_') as tmp:
        frames, jpgs, video = make_frames(tmp, args.num_frames, args.shape)
        for config in args.configs:
            results.append((config, *time_config(config, args, frames, jpgs, video,
                                                 osp.join(tmp, 'out'))))
    print_table(results, args, load_before)


if __name__ == '__main__':
    main()
