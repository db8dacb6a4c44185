"""Frames per second of :class:`mtlunder.apis.MultiTaskInferencer` per model family (the logic
of ``tools/analysis/benchmark_inferencer.py``): forward only, and with every output written.

Renders synthetic underwater frames (``mtlunder.synthesis.render_sample``, seed 0), then per
config times the bare forward pass (test pipeline + ``model.test_step``), the inferencer on
the BGR arrays without writing, and with every output written; optionally the JPEG folder
and the ``mp4v`` video. One warm-up call each, then rounds that run every mode once
(interleaved, so a slow spell of a shared machine hits all alike).
"""
import os
import os.path as osp
import statistics
import sys
import time
from typing import Sequence

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the repository
DEMO = osp.join(ROOT, 'configs', 'squad', 'squad-retinanet_r18_demo_underwater.py')
#: one CPU demo config per model family
FAMILIES = (DEMO,
            osp.join(ROOT, 'configs', 'squad', 'squad-retinanet_r18_4task_demo_underwater.py'),
            osp.join(ROOT, 'configs', 'nyud', 'squadnet-tiny_seg-depth_demo_nyud.py'),
            osp.join(ROOT, 'configs', 'pascal_context',
                     'squadnet-tiny_4task_demo_pascal-context.py'))


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


def time_config(config: str, args, frames, jpgs: str, video: str, out: str) -> tuple:
    """``(boxes per frame, [(input, outputs written, [seconds per frame per round]), ...])``
    of one config; ``args`` as the tool's (checkpoint, score_thr, dense_boxes, batch_size,
    inputs, repeats)."""
    import torch

    from mtlunder.apis import MultiTaskInferencer

    torch.manual_seed(0)
    inferencer = MultiTaskInferencer(config, args.checkpoint, score_thr=args.score_thr,
                                     show_progress=False)
    if args.dense_boxes:
        for name, module in inferencer.model.named_modules():
            if name.endswith(('retina_cls', 'conv_cls')) and module.bias is not None:
                torch.nn.init.zeros_(module.bias)
    n, bs = len(frames), args.batch_size
    call = dict(batch_size=bs)

    def forward():
        for _, data in inferencer.preprocess([dict(img=f) for f in frames], bs):
            inferencer.forward(data)

    modes = [('forward only (pipeline + test_step)', '-', forward),
             ('BGR arrays', 'no', lambda: inferencer(frames, write=False, **call)),
             ('BGR arrays', 'every task + vis + JSON',
              lambda: inferencer(frames, out_dir=out, **call))]
    if args.inputs:
        modes += [('JPEG folder', 'no', lambda: inferencer(jpgs, write=False, **call)),
                  ('JPEG folder', 'every task + vis + JSON',
                   lambda: inferencer(jpgs, out_dir=out, **call)),
                  ('mp4 video', 'no', lambda: inferencer(video, write=False, **call)),
                  ('mp4 video', 'annotated mp4 + JSON',
                   lambda: inferencer(video, out_dir=out, **call))]
    preds = inferencer(frames, write=False, **call)['predictions']
    boxes = sum(len(p.get('bboxes', ())) for p in preds) / n
    times = [[] for _ in modes]
    for _, _, fn in modes:  # warm-up
        fn()
    for r in range(args.repeats):
        for i, (_, _, fn) in enumerate(modes):
            start = time.perf_counter()
            fn()
            times[i].append((time.perf_counter() - start) / n)
        print(f'{osp.basename(config)}: round {r + 1}/{args.repeats} done', file=sys.stderr)
    return boxes, [(name, written, t) for (name, written, _), t in zip(modes, times)]


def print_table(results: Sequence, args, load_before: float) -> None:
    """The markdown table of :func:`time_config`'s results, ``[(config, boxes, rows)]``."""
    import torch

    weights = args.checkpoint or 'initialised (untrained) weights'
    print(f'{weights}; {args.shape[1]}x{args.shape[0]} frames, batch {args.batch_size}, '
          f'{torch.get_num_threads()} CPU threads, score_thr {args.score_thr}; '
          f'{args.repeats} rounds of {args.num_frames} frames; load average '
          f'{load_before:.2f} before, {os.getloadavg()[0]:.2f} after')
    print('| config | boxes/frame | input | outputs written | ms/frame (median) | '
          'frames/s (median) | frames/s (best round) |')
    print('|---|---|---|---|---|---|---|')
    for config, boxes, rows in results:
        name = osp.splitext(osp.basename(str(config)))[0]
        for mode, written, t in rows:
            median = statistics.median(t)
            print(f'| {name} | {boxes:.1f} | {mode} | {written} | {median * 1e3:.1f} | '
                  f'{1 / median:.2f} | {1 / min(t):.2f} |')
