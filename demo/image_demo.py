"""Detect and enhance underwater images with a trained model.

    python demo/image_demo.py IMAGE_OR_FOLDER CONFIG CHECKPOINT [--out-dir outputs]

For every image writes ``<stem>_enhanced.png`` (the restored image) and ``<stem>_result.png``
(input + boxes | enhanced), and prints the detections.
"""
import argparse
import os
import os.path as osp

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('inputs', help='an image file or a folder of images')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', default='outputs')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--score-thr', type=float, default=0.3)
    return parser.parse_args()


def list_images(path: str) -> list:
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise FileNotFoundError(f'{path} is neither an image file nor a folder')
    files = sorted(osp.join(path, f) for f in os.listdir(path)
                   if f.lower().endswith(IMAGE_EXTS))
    if not files:
        raise FileNotFoundError(f'no images ({", ".join(IMAGE_EXTS)}) in {path}')
    return files


def main():
    args = parse_args()
    import mmcv
    from mmengine.utils import ProgressBar

    from mtlunder.apis import inference_multitask, init_model
    from mtlunder.visualization import det_enh_grid, rgb01_to_bgr_uint8

    model = init_model(args.config, args.checkpoint, device=args.device)
    classes = model.dataset_meta.get('classes', ())
    files = list_images(args.inputs)
    os.makedirs(args.out_dir, exist_ok=True)
    progress = ProgressBar(len(files))
    for path in files:
        img = mmcv.imread(path)
        if img is None:
            raise OSError(f'cannot decode image {path}')
        result = inference_multitask(model, path)
        stem = osp.splitext(osp.basename(path))[0]
        enhanced = None
        if 'pred_clean' in result:
            enhanced = rgb01_to_bgr_uint8(result.pred_clean.data)
            mmcv.imwrite(enhanced, osp.join(args.out_dir, f'{stem}_enhanced.png'))
        pred = None
        if 'pred_instances' in result:
            p = result.pred_instances
            pred = dict(bboxes=p.bboxes.numpy(), labels=p.labels.numpy(),
                        scores=p.scores.numpy())
        row = det_enh_grid(img, enhanced, None, classes, pred=pred, score_thr=args.score_thr)
        mmcv.imwrite(row[:, :2 * img.shape[1] + 4], osp.join(args.out_dir, f'{stem}_result.png'))
        progress.update()
        if pred is not None:
            keep = pred['scores'] >= args.score_thr
            print(f'\n{path}: ' + ', '.join(
                f'{classes[int(lbl)]} {s:.2f} {b.round(1).tolist()}' for b, lbl, s in
                zip(pred['bboxes'][keep], pred['labels'][keep], pred['scores'][keep])))
    print(f'results written to {args.out_dir}')


if __name__ == '__main__':
    main()
