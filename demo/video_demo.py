"""Run a trained multi-task model on every frame of a video.

    python demo/video_demo.py VIDEO CONFIG CHECKPOINT --out FILE.mp4 [--device cpu]
        [--score-thr 0.3]

A thin command line over :meth:`mtlunder.apis.MultiTaskInferencer.run_video`: writes
``FILE.mp4`` (per frame every task's prediction panel side by side, e.g. input + boxes |
enhanced | segmentation | depth; the input's fps, the panels' size) and ``FILE.json``
(``labels``, ``scores``, ``bboxes`` of every frame for a box task); a video that cannot be
read is named in one line and the exit status is 1. CONFIG may also be a model name of
``configs/*/metafile.yml``; CHECKPOINT ``none`` runs initialised weights.
"""
import argparse
import os.path as osp
import sys


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('video', help='a video file OpenCV can read (.mp4, .avi, ...)')
    parser.add_argument('config', help='config file or metafile model name')
    parser.add_argument('checkpoint', help="checkpoint file ('none': initialised weights)")
    parser.add_argument('--out', required=True, help='output video (.mp4 or .avi)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--batch-size', type=int, default=1, help='frames per forward pass')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    from mtlunder.apis import MultiTaskInferencer
    from mtlunder.apis.inferencer import UnreadableInput

    checkpoint = None if args.checkpoint == 'none' else args.checkpoint
    inferencer = MultiTaskInferencer(args.config, checkpoint, device=args.device,
                                     score_thr=args.score_thr)
    out_json = osp.splitext(args.out)[0] + '.json'
    try:
        video = inferencer.run_video(args.video, args.out, out_json, args.batch_size,
                                     progress=True)
    except UnreadableInput as err:
        print(f'error: {err}; nothing written', file=sys.stderr)
        return 1
    print(f'{video["num_frames"]} frames, {video["width"]}x{video["height"]} at '
          f'{video["fps"]:.2f} fps -> {args.out}, {out_json}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
