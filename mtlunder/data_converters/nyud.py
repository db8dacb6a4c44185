"""NYUD-v2 -> dense format, from the official labelled ``.mat``, the NYUD_MT folders, or the
refinenet PNG frames (``nyud_samples``).

Segmentation is written 40-class, 0-based, 255 = ignore; depth in metres.

- Official ``nyu_depth_v2_labeled.mat`` (MATLAB v7.3 = HDF5): h5py gives the arrays with
  their axes reversed (``images`` (N, 3, W, H), ``depths``/``labels`` (N, W, H)), so every
  frame is transposed back to [H, W(, 3)]. The 894-class ``labels`` (0 = unlabelled) go
  through ``mapClass`` of the standard ``classMapping40.mat`` (Gupta et al.) passed by the
  user; a ``labels40`` array in the labelled ``.mat`` itself is used when present.
  ``splits.mat`` gives ``trainNdxs`` / ``testNdxs`` (1-based; 795 / 654) -> train / val.
  Sample ids are the 1-based frame index, 6 digits (``000001``).
- NYUD_MT: ``images/<id>.jpg``, ``depth/<id>.npy`` (m), ``segmentation/<id>.png`` (0 =
  ignore, classes shifted by one), ``normals/<id>.npy``, ``edge/<id>.npy``,
  ``gt_sets/{train,val}.txt``.
- refinenet PNGs: ``<id>.png``, ``depth_gt_<id>.png`` (uint16, m = value / 5000),
  ``segm_gt_<id>.png`` (0-based, 255 = ignore), ``norm_gt_<id>.png`` (n = 2 v / 255 - 1).
"""
from pathlib import Path
from typing import Optional

import numpy as np

from .dense import IGNORE_INDEX, DenseWriter
from .io import DataError, checked_size, progress, read_label_map, read_rgb
from .output import atomic_dir
from .report import Report
from .rgbd import NYUD_DEPTH_SCALE, read_depth_m

NYUD40_CLASSES = (
    'wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table', 'door', 'window',
    'bookshelf', 'picture', 'counter', 'blinds', 'desk', 'shelves', 'curtain', 'dresser',
    'pillow', 'mirror', 'floor mat', 'clothes', 'ceiling', 'books', 'refridgerator',
    'television', 'paper', 'towel', 'shower curtain', 'box', 'whiteboard', 'person',
    'night stand', 'toilet', 'sink', 'lamp', 'bathtub', 'bag', 'otherstructure',
    'otherfurniture', 'otherprop')


def load_mat_arrays(path: Path, keys) -> dict:
    """Arrays ``keys`` of a MATLAB file, v5 (scipy) or v7.3 (h5py, axes reversed back)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f'{path}: file not found')
    import h5py

    if h5py.is_hdf5(path):
        with h5py.File(path, 'r') as f:
            missing = [k for k in keys if k not in f]
            if missing:
                raise DataError(f'{path}: missing {missing} (has {sorted(f.keys())})')
            return {k: np.asarray(f[k]).T for k in keys}
    from scipy.io import loadmat

    try:
        data = loadmat(path)
    except (ValueError, OSError) as err:
        raise DataError(f'{path}: cannot read MATLAB file ({err})') from err
    missing = [k for k in keys if k not in data]
    if missing:
        raise DataError(f'{path}: missing {missing}')
    return {k: np.asarray(data[k]) for k in keys}


def map_to_40(labels894: np.ndarray, map_class: np.ndarray, where: str) -> np.ndarray:
    """894-class labels (0 = unlabelled) -> 40-class 0-based uint8, 255 = ignore."""
    lut = np.full(len(map_class) + 1, IGNORE_INDEX, np.int64)
    lut[1:] = map_class - 1
    lut[1:][map_class == 0] = IGNORE_INDEX
    labels894 = labels894.astype(np.int64)
    if labels894.min() < 0 or labels894.max() > len(map_class):
        raise DataError(f'{where}: labels {labels894.max()} outside 0..{len(map_class)}')
    return lut[labels894].astype(np.uint8)


def _shift40(labels40: np.ndarray, where: str) -> np.ndarray:
    """1..40 with 0 = unlabelled -> 0..39 with 255 = ignore."""
    labels40 = labels40.astype(np.int64)
    if labels40.min() < 0 or labels40.max() > 40:
        raise DataError(f'{where}: 40-class labels outside 0..40 (max {labels40.max()})')
    return np.where(labels40 == 0, IGNORE_INDEX, labels40 - 1).astype(np.uint8)


def convert_nyud_mat(mat_path: Path, out_dir: Path, splits_path: Optional[Path] = None,
                     class_mapping: Optional[Path] = None, overwrite: bool = False,
                     show_progress: bool = True) -> Report:
    """Official labelled ``.mat`` -> dense format (see module doc)."""
    import h5py

    mat_path = Path(mat_path)
    report = Report(f'NYUD-v2 {mat_path.name} -> {out_dir}')
    if not mat_path.is_file():
        raise DataError(f'{mat_path}: file not found')
    if not h5py.is_hdf5(mat_path):
        raise DataError(f'{mat_path}: not a MATLAB v7.3 (HDF5) file')
    with h5py.File(mat_path, 'r') as f:
        for key in ('images', 'depths'):
            if key not in f:
                raise DataError(f'{mat_path}: no "{key}" array (has {sorted(f.keys())})')
        num = f['images'].shape[0]
        own40 = 'labels40' in f
        if not own40 and 'labels' in f and class_mapping is None:
            raise DataError(f'{mat_path}: has only the 894-class "labels"; pass the standard '
                            'classMapping40.mat (--class-mapping) to map them to 40 classes')
        map_class = None
        if not own40 and class_mapping is not None:
            map_class = load_mat_arrays(class_mapping, ['mapClass'])['mapClass'].ravel()
            map_class = map_class.astype(np.int64)
            if map_class.min() < 0 or map_class.max() > 40:
                raise DataError(f'{class_mapping}: mapClass values outside 0..40')
        split_of = {}
        if splits_path is not None:
            idx = load_mat_arrays(splits_path, ['trainNdxs', 'testNdxs'])
            for split, key in (('train', 'trainNdxs'), ('val', 'testNdxs')):
                for i in idx[key].ravel().astype(int):
                    if not 1 <= i <= num:
                        raise DataError(f'{splits_path}: {key} index {i} outside 1..{num}')
                    split_of[i] = split
        else:
            report.add('no_splits', f'{mat_path}: no splits.mat given; every frame -> train')
        with atomic_dir(out_dir, overwrite, tool='convert_nyud',
                        inputs=[mat_path, splits_path, class_mapping]) as tmp:
            writer = DenseWriter(tmp, 'nyud_v2', NYUD40_CLASSES)
            for i in progress(range(num), desc='NYUD .mat', enabled=show_progress):
                frame = i + 1
                where = f'{mat_path}: frame {frame}'
                image = np.ascontiguousarray(f['images'][i].T).astype(np.uint8)  # (H, W, 3)
                depth = np.ascontiguousarray(f['depths'][i].T).astype(np.float32)
                if own40:
                    seg = _shift40(np.asarray(f['labels40'][i].T), where)
                elif 'labels' in f:
                    seg = map_to_40(np.asarray(f['labels'][i].T), map_class, where)
                else:
                    seg = None
                writer.add(f'{frame:06d}', image, [split_of.get(frame, 'train')], seg=seg,
                           depth=depth)
            meta = writer.finish(source=str(mat_path),
                                 seg_mapping='labels40 of the .mat' if own40 else
                                 f'mapClass of {class_mapping}')
    report.count('frames', meta['num_samples'])
    for split, n in meta['splits'].items():
        report.count(f'split {split}', n)
    return report


def convert_nyud_mt(root: Path, out_dir: Path, overwrite: bool = False,
                    show_progress: bool = True) -> Report:
    """NYUD_MT folder layout -> dense format (segmentation shifted to 0-based/255)."""
    root = Path(root)
    report = Report(f'NYUD_MT {root} -> {out_dir}')
    splits = {}
    for split in ('train', 'val'):
        path = root / 'gt_sets' / f'{split}.txt'
        if not path.is_file():
            raise DataError(f'{path}: split file not found')
        for sid in path.read_text().split():
            splits.setdefault(sid, []).append(split)
    with atomic_dir(out_dir, overwrite, tool='convert_nyud', inputs=[root]) as tmp:
        writer = DenseWriter(tmp, 'nyud_v2', NYUD40_CLASSES)
        for sid in progress(sorted(splits), desc='NYUD_MT', enabled=show_progress):
            image = next((root / 'images' / f'{sid}{e}' for e in ('.jpg', '.png')
                          if (root / 'images' / f'{sid}{e}').is_file()), None)
            if image is None:
                report.add('corrupt_image', f'{root / "images"}/{sid}.jpg: not found; skipped')
                continue
            if checked_size(image, report) is None:
                continue
            labels = {}
            seg_path = root / 'segmentation' / f'{sid}.png'
            if seg_path.is_file():
                labels['seg'] = _shift40(read_label_map(seg_path), str(seg_path))
            depth_path = root / 'depth' / f'{sid}.npy'
            if depth_path.is_file():
                labels['depth'] = read_depth_m(depth_path)
            for task, folder in (('normal', 'normals'), ('edge', 'edge')):
                path = root / folder / f'{sid}.npy'
                if path.is_file():
                    value = np.load(path).astype(np.float32)
                    labels[task] = value if task == 'normal' else \
                        (value.squeeze() > 0.5).astype(np.uint8)
            writer.add(sid, image, splits[sid], **labels)
        meta = writer.finish(source=str(root), seg_mapping='NYUD_MT segmentation - 1, 0 -> 255')
    report.count('frames', meta['num_samples'])
    return report


def convert_nyud_png(root: Path, out_dir: Path, split: str = 'val', overwrite: bool = False,
                     show_progress: bool = True) -> Report:
    """refinenet PNG frames (``<id>.png`` + ``depth_gt_`` / ``segm_gt_`` / ``norm_gt_``)."""
    root = Path(root)
    report = Report(f'NYUD PNG frames {root} -> {out_dir}')
    depth_files = sorted(root.rglob('depth_gt_*.png'))
    frames = sorted((p.stem[len('depth_gt_'):], p.parent) for p in depth_files)
    if not frames:
        raise DataError(f'{root}: no depth_gt_<id>.png files')
    with atomic_dir(out_dir, overwrite, tool='convert_nyud', inputs=[root]) as tmp:
        writer = DenseWriter(tmp, 'nyud_v2', NYUD40_CLASSES)
        for sid, folder in progress(frames, desc='NYUD png', enabled=show_progress):
            image = folder / f'{sid}.png'
            if checked_size(image, report) is None:
                continue
            labels = dict(depth=read_depth_m(folder / f'depth_gt_{sid}.png'))
            if (folder / f'segm_gt_{sid}.png').is_file():
                labels['seg'] = read_label_map(folder / f'segm_gt_{sid}.png')
            if (folder / f'norm_gt_{sid}.png').is_file():
                normal = read_rgb(folder / f'norm_gt_{sid}.png').astype(np.float32)
                labels['normal'] = 2.0 * normal / 255.0 - 1.0
            writer.add(sid, image, [split], **labels)
        meta = writer.finish(source=str(root), depth_scale=f'png value / {NYUD_DEPTH_SCALE:g}')
    report.count('frames', meta['num_samples'])
    return report
