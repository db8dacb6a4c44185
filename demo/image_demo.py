"""Detect and enhance underwater images (or a video) with a trained model.

    python demo/image_demo.py IMAGE_FOLDER_OR_VIDEO CONFIG CHECKPOINT [--out-dir outputs]

A thin command line over :class:`mtlunder.apis.MultiTaskInferencer`: for every image it
writes ``enhanced/<stem>.png`` (the restored image), ``vis/<stem>.jpg`` (boxes, class names
and scores on the enhanced image) and ``preds/<stem>.json`` (``labels``, ``scores``,
``bboxes`` in input pixels), and prints the detections. Unreadable images are named in a
warning and skipped; when nothing could be processed it exits with status 1 and writes
nothing. CONFIG may also be a model name of ``configs/*/metafile.yml``.
"""
import argparse
import sys


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('inputs', help='an image file, a folder of images or a video')
    parser.add_argument('config', help='config file or metafile model name')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', default='outputs')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--score-thr', type=float, default=0.3)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    from mtlunder.apis import MultiTaskInferencer

    inferencer = MultiTaskInferencer(args.config, args.checkpoint, device=args.device,
                                     score_thr=args.score_thr)
    try:
        result = inferencer(args.inputs, out_dir=args.out_dir)
    except FileNotFoundError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    for pred in result['predictions']:
        if 'frame' in pred:
            continue  # a video: the detections are in preds/<stem>.json
        print(f'{pred["img_path"]}: ' + ', '.join(
            f'{inferencer.classes[lbl]} {s:.2f} {b}' for lbl, s, b in
            zip(pred['labels'], pred['scores'], pred['bboxes'])))
    if not result['predictions']:
        skipped = result['skipped']
        why = f'unreadable: {", ".join(skipped)}' if skipped else 'no image or video found'
        print(f'error: nothing processed in {args.inputs} ({why}); nothing written',
              file=sys.stderr)
        return 1
    print(f'{len(result["predictions"])} images / frames, {len(result["skipped"])} skipped; '
          f'results written to {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
