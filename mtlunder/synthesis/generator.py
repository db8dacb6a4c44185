"""Write the synthetic underwater det+enh+seg+depth benchmark to disk.

Layout (the project's underwater benchmark format)::

    <out>/images/<name>.png          degraded underwater input
    <out>/references/<name>.png      clean reference (exact: the scene before the water)
    <out>/segmentation/<name>.png    uint8 class map: 0 background, 1-4 = category_id,
                                     255 = ignore (animals too small to get a box)
    <out>/depth/<name>.npy           float32 range map (m) the formation model used
    <out>/annotations/train.json     COCO; image entries carry reference, segmentation,
    <out>/annotations/val.json       depth, tasks, water_type, range_min / range_mean /
                                     range_max (m), depth_below_surface

Image ``i`` is rendered from ``np.random.default_rng([seed, i])``, so the dataset depends on
``seed`` and ``num_images`` only, never on the number of workers.
"""
import json
import multiprocessing
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Sequence, Tuple

import cv2
import numpy as np

from .formation import degrade, residual_energy_ratio
from .scene import render_scene
from .sprites import CLASSES

#: Water types drawn by default. 5C, 7C and 9C leave 5-30% of the green light at 3-5 m below
#: the surface (N ** D) before any range is crossed: their images are dark and the animals
#: barely visible (see docs/synthetic_benchmark.md), so they are opt-in.
DEFAULT_WATER_TYPES = ('I', 'IA', 'IB', 'II', 'III', '1C', '3C')

CATEGORIES = [dict(id=i + 1, name=name) for i, name in enumerate(CLASSES)]

#: Tasks every synthetic image is labelled for (its ``tasks`` entry).
TASKS = ('det', 'enh', 'seg', 'depth')

#: Folders written below the dataset root.
SUBDIRS = ('images', 'references', 'segmentation', 'depth', 'annotations')


def visible_range(water_type: str, min_transmission: float = 0.45, cap: float = 12.0) -> float:
    """Range (m) at which the clearest channel's transmission drops to ``min_transmission``."""
    clearest = float(residual_energy_ratio(water_type).max())
    return min(cap, float(np.log(min_transmission) / np.log(clearest)))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images of equal shape (MAX = 255); inf when identical."""
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32))**2))
    return float('inf') if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def render_sample(index: int, seed: int, size: Tuple[int, int],
                  water_types: Sequence[str] = DEFAULT_WATER_TYPES,
                  depth_range: Tuple[float, float] = (3.0, 5.0),
                  noise_std: Tuple[float, float] = (0.002, 0.015),
                  blur_sigma: Tuple[float, float] = (0.0, 1.0),
                  num_objects: Tuple[int, int] = (2, 8)) -> dict:
    """Render image ``index``: clean and degraded uint8 RGB, objects, formation parameters.

    Returns:
        dict with ``clean`` and ``degraded`` (uint8 [H, W, 3] RGB), ``range_m`` (float32
        [H, W], metres: the range given to :func:`~mtlunder.synthesis.formation.degrade`),
        ``class_map`` (uint8 [H, W]), ``objects`` (see
        :class:`~mtlunder.synthesis.scene.Scene`) and ``info`` (the ``degrade`` info).
    """
    rng = np.random.default_rng([seed, index])
    water_type = water_types[rng.integers(len(water_types))]
    near = rng.uniform(1.5, 3.0)
    far = max(near + 0.5, rng.uniform(0.6, 1.0) * visible_range(water_type))
    scene = render_scene(rng, size, num_objects=num_objects, range_limits=(near, far))
    clean = np.round(scene.image * 255).astype(np.uint8)
    degraded, info = degrade(clean.astype(np.float32) / 255, scene.range_m, water_type,
                             rng.uniform(*depth_range), rng, noise_std=rng.uniform(*noise_std),
                             blur_sigma=rng.uniform(*blur_sigma))
    return dict(clean=clean, degraded=np.round(degraded * 255).astype(np.uint8),
                range_m=scene.range_m, class_map=scene.class_map, objects=scene.objects,
                info=info)


def _write_png(path: Path, rgb: np.ndarray) -> None:
    """Fast lossless PNG: zlib level 1, Huffman only (noisy images barely compress anyway)
    and, where OpenCV offers the choice, the cheap SUB row filter."""
    params = [cv2.IMWRITE_PNG_COMPRESSION, 1,
              cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY]
    if hasattr(cv2, 'IMWRITE_PNG_FILTER'):
        params += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_SUB]
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params):
        raise OSError(f'could not write image {path}')


def _write_label_png(path: Path, labels: np.ndarray) -> None:
    """Single-channel uint8 PNG (zlib level 1; label maps compress well with the default
    strategy)."""
    if labels.dtype != np.uint8 or labels.ndim != 2:
        raise ValueError(f'label map must be uint8 [H, W], got {labels.dtype} {labels.shape}')
    if not cv2.imwrite(str(path), labels, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
        raise OSError(f'could not write label map {path}')


def _write_depth(path: Path, range_m: np.ndarray) -> None:
    """float32 [H, W] metres as ``.npy``."""
    with open(path, 'wb') as f:
        np.save(f, np.ascontiguousarray(range_m, dtype=np.float32))


def _make_sample(job: Tuple[int, str, dict]) -> dict:
    """Render image ``index`` and write its files below ``root``; return its COCO records."""
    index, root, params = job
    sample = render_sample(index, **params)
    stem = f'{index:06d}'
    name = f'{stem}.png'
    _write_png(Path(root, 'images', name), sample['degraded'])
    _write_png(Path(root, 'references', name), sample['clean'])
    _write_label_png(Path(root, 'segmentation', name), sample['class_map'])
    _write_depth(Path(root, 'depth', f'{stem}.npy'), sample['range_m'])
    info = sample['info']
    height, width = sample['clean'].shape[:2]
    image = dict(id=index + 1, file_name=name, width=width, height=height, reference=name,
                 segmentation=name, depth=f'{stem}.npy', tasks=list(TASKS),
                 water_type=info['water_type'],
                 range_min=round(info['range_min'], 3), range_mean=round(info['range_mean'], 3),
                 range_max=round(info['range_max'], 3),
                 depth_below_surface=round(info['depth_below_surface'], 3),
                 source='synthetic')
    anns = [dict(image_id=index + 1, category_id=o['category_id'], bbox=o['bbox'],
                 area=o['area'], iscrowd=o['iscrowd'], visible_fraction=o['visible_fraction'])
            for o in sample['objects']]
    return dict(index=index, image=image, annotations=anns,
                psnr=psnr(sample['degraded'], sample['clean']))


def tune_allocator() -> None:
    """Let glibc keep freed image buffers instead of returning them to the OS.

    Every rendered image allocates and frees dozens of 0.4-1.2 MB arrays; with glibc's
    default mmap threshold each one is a fresh mapping and costs ~100 page faults, which
    doubles the rendering time. Raising the mmap and trim thresholds (64 MiB / 256 MiB)
    keeps them in the heap. A no-op where glibc is not the C library. Affects the whole
    process: the CLI and the worker processes call it.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library('c')
    if not name:
        return
    libc = ctypes.CDLL(name)
    if hasattr(libc, 'mallopt'):
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 64 << 20)
        libc.mallopt(m_trim_threshold, 256 << 20)


def _init_worker() -> None:
    cv2.setNumThreads(1)
    tune_allocator()


def _coco(records: List[dict], info: dict, first_ann_id: int) -> dict:
    anns = []
    for rec in records:
        for ann in rec['annotations']:
            anns.append(dict(id=first_ann_id + len(anns), **ann))
    return dict(info=info, images=[r['image'] for r in records], annotations=anns,
                categories=CATEGORIES)


def _summary_table(splits: Dict[str, List[dict]]) -> str:
    head = ['split', 'images', *CLASSES, 'ignored', 'PSNR in (dB)']
    rows = []
    for name, recs in list(splits.items()) + [('all', sum(splits.values(), []))]:
        counts = [sum(a['category_id'] == c['id'] and not a['iscrowd']
                      for r in recs for a in r['annotations']) for c in CATEGORIES]
        ignored = sum(a['iscrowd'] for r in recs for a in r['annotations'])
        mean_psnr = np.mean([r['psnr'] for r in recs]) if recs else float('nan')
        rows.append([name, len(recs), *counts, ignored, f'{mean_psnr:.2f}'])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'
    fmt = '| ' + ' | '.join(f'{{:>{w}}}' for w in widths) + ' |'
    return '\n'.join([line, fmt.format(*head), line, *[fmt.format(*r) for r in rows], line])


def generate_benchmark(out_dir: str,
                       num_images: int,
                       size: Tuple[int, int] = (320, 320),
                       seed: int = 0,
                       val_fraction: float = 0.2,
                       workers: int = 1,
                       overwrite: bool = False,
                       water_types: Sequence[str] = DEFAULT_WATER_TYPES,
                       depth_range: Tuple[float, float] = (3.0, 5.0),
                       noise_std: Tuple[float, float] = (0.002, 0.015),
                       blur_sigma: Tuple[float, float] = (0.0, 1.0),
                       num_objects: Tuple[int, int] = (2, 8),
                       verbose: bool = True) -> dict:
    """Render ``num_images`` synthetic underwater images with boxes, clean references,
    per-pixel class maps and range (depth) maps.

    Args:
        out_dir: dataset root to create. Written in a temporary folder beside it and
            renamed into place when complete (:func:`mtlunder.data_converters.output.atomic_dir`).
        num_images: number of images (train + val).
        size: (height, width) in pixels.
        seed: base seed; image ``i`` uses ``default_rng([seed, i])``.
        val_fraction: fraction of images, drawn by a seeded permutation, put in val.json.
        workers: processes rendering in parallel (1 = in this process).
        overwrite: replace an existing ``out_dir`` (only after the new one is complete);
            a non-empty folder not written by an mtlunder tool is never replaced.
        water_types: Jerlov types drawn uniformly per image.
        depth_range: depth below the surface D (m), uniform.
        noise_std, blur_sigma: uniform ranges of the sensor noise std (intensity in [0, 1])
            and of the forward-scatter blur sigma (pixels).
        num_objects: inclusive range of animals placed per image.
        verbose: show a progress bar and print the summary table.

    Returns:
        Summary dict: ``out_dir``, ``images`` {split: count}, ``boxes`` {class: count,
        non-ignored}, ``ignored``, ``mean_psnr`` (dB, input vs reference), ``seconds``
        (wall), ``images_per_second`` (wall), ``cpu_seconds`` (this process only).
    """
    if num_images < 1:
        raise ValueError(f'num_images must be >= 1, got {num_images}')
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f'val_fraction must be in [0, 1), got {val_fraction}')
    for wt in water_types:
        residual_energy_ratio(wt)
    from mtlunder.data_converters.output import atomic_dir

    out = Path(out_dir).resolve()
    params = dict(seed=seed, size=tuple(size), water_types=tuple(water_types),
                  depth_range=tuple(depth_range), noise_std=tuple(noise_std),
                  blur_sigma=tuple(blur_sigma), num_objects=tuple(num_objects))
    with atomic_dir(out, overwrite, tool='synth_underwater') as tmp:
        for sub in SUBDIRS:
            (tmp / sub).mkdir()
        start, cpu_start = time.perf_counter(), time.process_time()
        records = _render_all(tmp, num_images, params, workers, verbose)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start

        n_val = int(round(num_images * val_fraction))
        val_ids = set(np.random.default_rng(seed).permutation(num_images)[:n_val].tolist())
        splits = dict(train=[r for r in records if r['index'] not in val_ids],
                      val=[r for r in records if r['index'] in val_ids])
        info = dict(description='mtlunder synthetic underwater det+enh+seg+depth benchmark',
                    num_images=num_images, val_fraction=val_fraction,
                    **{k: list(v) if isinstance(v, tuple) else v for k, v in params.items()})
        next_id = 1
        for name, recs in splits.items():
            coco = _coco(recs, dict(info, split=name), next_id)
            next_id += len(coco['annotations'])
            with open(tmp / 'annotations' / f'{name}.json', 'w') as f:
                json.dump(coco, f)

    anns = [a for r in records for a in r['annotations']]
    summary = dict(
        out_dir=str(out),
        images={k: len(v) for k, v in splits.items()},
        boxes={c['name']: sum(a['category_id'] == c['id'] and not a['iscrowd'] for a in anns)
               for c in CATEGORIES},
        ignored=sum(a['iscrowd'] for a in anns),
        mean_psnr=float(np.mean([r['psnr'] for r in records])),
        seconds=seconds,
        images_per_second=num_images / seconds,
        cpu_seconds=cpu_seconds)
    if verbose:
        print(f'\nwrote {num_images} images to {out}')
        print(_summary_table(splits))
        print(f"water types: {', '.join(water_types)}; generation speed: "
              f"{summary['images_per_second']:.1f} images/s ({workers} worker(s), "
              f'{seconds:.1f} s wall)')
        if workers <= 1:
            print(f'CPU time of this process: {cpu_seconds:.1f} s = '
                  f'{num_images / max(cpu_seconds, 1e-9):.1f} images per CPU-second')
    return summary


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while worker processes start. They keep ignoring it (an ignored signal
    stays ignored across exec), so Ctrl-C, sent to the whole process group, interrupts the
    parent only, which terminates the pool, instead of printing a traceback per worker."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _render_all(root: Path, num_images: int, params: dict, workers: int,
                verbose: bool) -> List[dict]:
    """Render every image into ``root``; records sorted by index."""
    jobs = [(i, str(root), params) for i in range(num_images)]
    bar = None
    if verbose:
        from mmengine.utils import ProgressBar

        bar = ProgressBar(num_images)
    records = []
    if workers <= 1:
        for rec in map(_make_sample, jobs):
            records.append(rec)
            if bar is not None:
                bar.update()
    else:
        # spawn, not fork: a forked child can hang on locks of OpenCV's / OpenMP's thread
        # pools held by the parent's threads at fork time
        ctx = multiprocessing.get_context('spawn')
        with _sigint_ignored():
            pool = ctx.Pool(workers, initializer=_init_worker)
        with pool:
            for rec in pool.imap_unordered(_make_sample, jobs, chunksize=4):
                records.append(rec)
                if bar is not None:
                    bar.update()
    return sorted(records, key=lambda r: r['index'])
