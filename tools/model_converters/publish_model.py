"""Prepare a checkpoint for release, as MMDetection's ``publish_model.py``.

Drops the optimiser, schedulers and message hub, keeps ``meta`` and ``state_dict``, and
names the file ``<out_stem>-<first 8 hex of its sha256>.pth``::

    python tools/model_converters/publish_model.py work_dirs/demo/best.pth \\
        squad-retinanet_r18_demo_underwater.pth
"""
import argparse
import hashlib
import os
import os.path as osp


def publish(in_file: str, out_file: str) -> str:
    """Write the release checkpoint; return its final path."""
    import torch

    from mtlunder.compat import safe_load

    checkpoint = safe_load(in_file, map_location='cpu')
    if 'state_dict' not in checkpoint:
        raise KeyError(f'{in_file} has no state_dict; is it an mmengine checkpoint?')
    meta = dict(checkpoint.get('meta', {}))
    for key in ('hook_msgs', 'iter', 'epoch'):  # training-state only
        meta.pop(key, None)
    release = dict(meta=meta, state_dict=checkpoint['state_dict'])
    tmp = out_file + '.tmp'
    torch.save(release, tmp)
    with open(tmp, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:8]
    stem = out_file[:-4] if out_file.endswith('.pth') else out_file
    final = f'{stem}-{digest}.pth'
    os.replace(tmp, final)
    return final


def main():
    parser = argparse.ArgumentParser(description='Publish a checkpoint for release')
    parser.add_argument('in_file', help='input checkpoint')
    parser.add_argument('out_file', help='output file name (.pth)')
    args = parser.parse_args()
    final = publish(args.in_file, args.out_file)
    print(f'published {osp.abspath(final)}')


if __name__ == '__main__':
    main()
