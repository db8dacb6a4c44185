"""Run a trained multi-task model on images (or a video) and write every task's outputs.

    python demo/image_demo.py IMAGE_FOLDER_OR_VIDEO CONFIG CHECKPOINT [--out-dir outputs]

A thin command line over :class:`mtlunder.apis.MultiTaskInferencer`: for every image it
writes ``vis/<stem>.jpg`` (every task's prediction side by side), the files of each task the
model predicts (``<task>/<stem>*.png``: enhanced image, class maps with overlays, depth in
uint16 millimetres, normals, edge / saliency maps) and ``preds/<stem>.json`` (boxes as
``labels``, ``scores``, ``bboxes`` in input pixels, and the files written), and prints the
detections or the files. Unreadable images are named in a warning and skipped; when nothing
could be processed it exits with status 1 and writes nothing. CONFIG may also be a model
name of ``configs/*/metafile.yml``; CHECKPOINT ``none`` runs initialised weights.
"""
import argparse
import sys


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('inputs', help='an image file, a folder of images or a video')
    parser.add_argument('config', help='config file or metafile model name')
    parser.add_argument('checkpoint', help="checkpoint file ('none': initialised weights)")
    parser.add_argument('--out-dir', default='outputs')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--score-thr', type=float, default=0.3)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    from mtlunder.apis import MultiTaskInferencer

    checkpoint = None if args.checkpoint == 'none' else args.checkpoint
    inferencer = MultiTaskInferencer(args.config, checkpoint, device=args.device,
                                     score_thr=args.score_thr)
    try:
        result = inferencer(args.inputs, out_dir=args.out_dir)
    except FileNotFoundError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    for pred in result['predictions']:
        if 'frame' in pred:
            continue  # a video: the detections are in preds/<stem>.json
        parts = []
        if 'bboxes' in pred:
            parts.append(', '.join(
                f'{inferencer.classes[lbl]} {s:.2f} {b}' for lbl, s, b in
                zip(pred['labels'], pred['scores'], pred['bboxes']))
                or f'no box scoring {args.score_thr} or more')
        parts.append('wrote ' + ', '.join(
            f for files in pred.get('files', {}).values() for f in files))
        print(f'{pred["img_path"]}: ' + '; '.join(parts))
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
