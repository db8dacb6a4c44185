"""Per-frame speed of :class:`mtlunder.apis.MultiTaskInferencer`, with and without writing.

``python tools/analysis/benchmark_inferencer.py [CONFIG] [--checkpoint CKPT] [--shape H W]
[--num-frames N] [--repeats R] [--num-threads T] [--batch-size B] [--score-thr S]
[--dense-boxes]``

Renders ``N`` synthetic underwater frames (``mtlunder.synthesis.render_sample``, seed 0) at
``H x W`` (default 480x640), saves them as JPEGs and as an ``mp4v`` video, then times
whole inferencer calls on the N frames: in-memory BGR arrays, the JPEG folder and the
video, each without writing (``write=False``) and writing every output (``enhanced/`` PNG,
``vis/`` JPEG, ``preds/`` JSON; for the video the annotated ``_enhanced.mp4`` and one JSON),
plus the bare forward pass (test pipeline + ``model.test_step``). One warm-up call each,
then ``R`` rounds that run every mode once (interleaved, so a slow spell of a shared
machine hits all alike); the table gives the median per frame and the best round. The
1-minute load average before and after is printed: on a shared 2-core machine, other jobs
make 2-thread timings several times slower, so trust only a run with a load near 0.

Without ``--checkpoint`` the model has initialised (untrained) weights: the speed is that of
the architecture, but an untrained detector keeps no box (scores at the 0.01 focal prior).
``--dense-boxes`` zeroes the classification bias so that every frame gets the model's
``max_per_img`` boxes (100), the load of a trained model on busy images, which also loads
NMS and drawing.
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'squad', 'squad-retinanet_r18_demo_underwater.py')


def make_frames(folder: str, num: int, shape, fps: float = 25.0):
    """``num`` BGR uint8 frames [H, W, 3], written as ``<folder>/jpg/%04d.jpg`` and as
    ``<folder>/clip.mp4``; returns (frames, jpg folder, video path)."""
    import cv2

    from mtlunder.synthesis import render_sample

    frames = [render_sample(i, seed=0, size=tuple(shape))['degraded'][..., ::-1].copy()
              for i in range(num)]
    os.makedirs(osp.join(folder, 'jpg'))
    for i, frame in enumerate(frames):
        cv2.imwrite(osp.join(folder, 'jpg', f'{i:04d}.jpg'), frame)
    video = osp.join(folder, 'clip.mp4')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (shape[1], shape[0]))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return frames, osp.join(folder, 'jpg'), video


def main():
    parser = argparse.ArgumentParser(description='Per-frame speed of MultiTaskInferencer')
    parser.add_argument('config', nargs='?', default=DEMO,
                        help='config file or metafile model name (default: the CPU demo)')
    parser.add_argument('--checkpoint', help='weights (default: initialised, untrained)')
    parser.add_argument('--shape', type=int, nargs=2, default=[480, 640], metavar=('H', 'W'))
    parser.add_argument('--num-frames', type=int, default=8)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--num-threads', type=int, default=2)
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--dense-boxes', action='store_true',
                        help='zero the classification bias: max_per_img boxes every frame')
    args = parser.parse_args()

    import torch

    from mtlunder.apis import MultiTaskInferencer

    torch.set_num_threads(args.num_threads)
    torch.manual_seed(0)
    inferencer = MultiTaskInferencer(args.config, args.checkpoint, score_thr=args.score_thr)
    if args.dense_boxes:
        for name, module in inferencer.model.named_modules():
            if name.endswith(('retina_cls', 'conv_cls')) and module.bias is not None:
                torch.nn.init.zeros_(module.bias)
    n = args.num_frames
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix='bench_inferencer_') as tmp:
        frames, jpgs, video = make_frames(tmp, n, args.shape)
        out = osp.join(tmp, 'out')
        call = dict(batch_size=args.batch_size, show_progress=False)
        modes = [
            ('forward only (pipeline + test_step)', '-',
             lambda: [inferencer.predict(frames[i:i + args.batch_size])
                      for i in range(0, n, args.batch_size)]),
            ('BGR arrays', 'no', lambda: inferencer(frames, write=False, **call)),
            ('BGR arrays', 'yes', lambda: inferencer(frames, out_dir=out, **call)),
            ('JPEG folder', 'no', lambda: inferencer(jpgs, write=False, **call)),
            ('JPEG folder', 'yes', lambda: inferencer(jpgs, out_dir=out, **call)),
            ('mp4 video', 'no', lambda: inferencer(video, write=False, **call)),
            ('mp4 video', 'yes', lambda: inferencer(video, out_dir=out, **call)),
        ]
        boxes = inferencer(frames, write=False, **call)['predictions']
        boxes = sum(len(p['bboxes']) for p in boxes) / n
        times = [[] for _ in modes]
        for _, _, fn in modes:  # warm-up
            fn()
        for r in range(args.repeats):
            for i, (_, _, fn) in enumerate(modes):
                start = time.perf_counter()
                fn()
                times[i].append((time.perf_counter() - start) / n)
            print(f'round {r + 1}/{args.repeats} done', file=sys.stderr)
    weights = args.checkpoint or 'initialised (untrained) weights'
    print(f'{osp.splitext(osp.basename(str(args.config)))[0]}, {weights}; '
          f'{args.shape[1]}x{args.shape[0]} frames, batch {args.batch_size}, '
          f'{torch.get_num_threads()} CPU threads, score_thr {args.score_thr}, '
          f'{boxes:.1f} boxes/frame; {args.repeats} rounds of {n} frames; load average '
          f'{load_before:.2f} before, {os.getloadavg()[0]:.2f} after')
    print('| input | outputs written | ms/frame (median) | frames/s (median) | '
          'frames/s (best round) |')
    print('|---|---|---|---|---|')
    for (name, written, _), t in zip(modes, times):
        median = statistics.median(t)
        print(f'| {name} | {written} | {median * 1e3:.1f} | {1 / median:.2f} | '
              f'{1 / min(t):.2f} |')


if __name__ == '__main__':
    main()
