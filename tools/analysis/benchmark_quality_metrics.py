"""Throughput of the no-reference quality metrics (UIQM, UCIQE) on one CPU thread.

``python tools/analysis/benchmark_quality_metrics.py [--data DIR] [--num-images N]
[--repeats R] [--num-threads T]``

Scores 400x300 images: the RUIE-UIQS subset (``../shared/data/ruie_uiqs_subset``, all
levels) when it is there, else random 8-bit images of that size. Each image goes through
:func:`uiqm`, :func:`uciqe` (and the three UIQM terms) ``R`` times after one untimed call;
the table gives images/s from the median time per image (``both``: UIQM then UCIQE, the
work of :class:`UnderwaterQualityMetric` per image and input).
"""
import argparse
import os.path as osp
import statistics
import time
from pathlib import Path

import torch

DEFAULT_DATA = osp.join(osp.dirname(__file__), '..', '..', '..', 'shared', 'data',
                        'ruie_uiqs_subset')


def load_images(data: str, num_images: int) -> tuple:
    """([3, 300, 400] float64 RGB 0-255 images, description of the source)."""
    paths = sorted(Path(data).glob('*/*.jpg'))[:num_images]
    if not paths:
        gen = torch.Generator().manual_seed(0)
        return ([torch.randint(0, 256, (3, 300, 400), generator=gen).double()
                 for _ in range(num_images)], 'random 400x300')
    import mmcv

    imgs = [torch.from_numpy(mmcv.imread(str(p), channel_order='rgb', backend='pillow')
                             .transpose(2, 0, 1).copy()).double() for p in paths]
    sizes = {tuple(i.shape[1:]) for i in imgs}
    return imgs, f'{len(imgs)} RUIE-UIQS images {sorted(sizes)} (HxW)'


def main():
    from mtlunder.evaluation.metrics.underwater_quality import (uciqe, uicm, uiconm, uiqm,
                                                                uism)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', default=DEFAULT_DATA)
    parser.add_argument('--num-images', type=int, default=60)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--num-threads', type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.num_threads)
    imgs, source = load_images(args.data, args.num_images)
    fns = {'uicm': uicm, 'uism': uism, 'uiconm': uiconm, 'uiqm': uiqm, 'uciqe': uciqe,
           'both (uiqm + uciqe)': lambda img: (uiqm(img), uciqe(img))}
    times = {name: [] for name in fns}
    for img in imgs:
        for name, fn in fns.items():
            fn(img)
            for _ in range(args.repeats):
                start = time.perf_counter()
                fn(img)
                times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(f'{source}, {args.num_threads} thread(s), {args.repeats} repeats, torch '
          f'{torch.__version__}')
    print(f'| {"metric":<20} | {"ms / image":>10} | {"images / s":>10} |')
    print(f'|{"-" * 22}|{"-" * 12}|{"-" * 12}|')
    for name, sec in medians.items():
        print(f'| {name:<20} | {1000 * sec:>10.1f} | {1 / sec:>10.1f} |')


if __name__ == '__main__':
    main()
