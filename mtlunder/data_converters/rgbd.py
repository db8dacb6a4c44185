"""In-air RGB-D frames (NYUD-v2) read in metres, and their rendering through water.

Layouts found under a root:
- ``nyud_rgbd_metric``: ``img<N>.jpg`` + ``depth<N>.csv`` (480 x 640 floats, metres);
- refinenet / ``nyud_samples``: ``<id>.png`` + ``depth_gt_<id>.png`` (uint16, metres =
  value / 5000, 0 = no measurement);
- NYUD_MT: ``images/<id>.jpg`` + ``depth/<id>.npy`` (float metres).
"""
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np

from .io import DataError, read_rgb, read_uint16_png

#: NYUD-v2 16-bit depth PNGs store metres * 5000.
NYUD_DEPTH_SCALE = 5000.0


@dataclass
class RGBDFrame:
    """One RGB-D frame: ``key`` (unique in its root), image path, depth path."""
    key: str
    image_path: Path
    depth_path: Path


def find_rgbd_frames(root: Path) -> List[RGBDFrame]:
    """Every RGB-D frame under ``root`` in any of the three layouts, sorted by key."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f'{root}: dataset folder not found')
    frames = []
    for csv in root.rglob('depth*.csv'):
        num = csv.stem[len('depth'):]
        image = next((csv.parent / f'img{num}{ext}' for ext in ('.jpg', '.png')
                      if (csv.parent / f'img{num}{ext}').is_file()), None)
        if image is not None:
            frames.append(RGBDFrame(_key(root, csv.parent, f'img{num}'), image, csv))
    for png in root.rglob('depth_gt_*.png'):
        frame_id = png.stem[len('depth_gt_'):]
        image = next((png.parent / f'{frame_id}{ext}' for ext in ('.png', '.jpg')
                      if (png.parent / f'{frame_id}{ext}').is_file()), None)
        if image is not None:
            frames.append(RGBDFrame(_key(root, png.parent, frame_id), image, png))
    for npy in root.rglob('depth/*.npy'):
        image = next((npy.parent.parent / 'images' / f'{npy.stem}{ext}'
                      for ext in ('.jpg', '.png')
                      if (npy.parent.parent / 'images' / f'{npy.stem}{ext}').is_file()), None)
        if image is not None:
            frames.append(RGBDFrame(_key(root, npy.parent.parent, npy.stem), image, npy))
    if not frames:
        raise DataError(f'{root}: no RGB-D frames (img<N>.jpg + depth<N>.csv, <id>.png + '
                        'depth_gt_<id>.png, or images/<id>.jpg + depth/<id>.npy)')
    frames.sort(key=lambda f: f.key)
    keys = [f.key for f in frames]
    if len(set(keys)) != len(keys):
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        raise DataError(f'{root}: duplicate frame names {repeated}')
    return frames


def _key(root: Path, folder: Path, name: str) -> str:
    rel = folder.relative_to(root).as_posix()
    return name if rel == '.' else f'{rel}/{name}'


def read_depth_m(path: Path) -> np.ndarray:
    """Depth in metres, float32 [H, W]; 0 = no measurement. NaN/inf/negative -> DataError."""
    path = Path(path)
    if path.suffix == '.csv':
        try:
            depth = np.loadtxt(path, delimiter=',', dtype=np.float32, ndmin=2)
        except ValueError as err:
            raise DataError(f'{path}: not a csv of numbers ({err})') from err
    elif path.suffix == '.npy':
        depth = np.load(path).astype(np.float32)
        depth = depth[..., 0] if depth.ndim == 3 and depth.shape[-1] == 1 else depth
    elif path.suffix == '.png':
        depth = read_uint16_png(path).astype(np.float32) / NYUD_DEPTH_SCALE
    else:
        raise DataError(f'{path}: unknown depth format {path.suffix!r}')
    if depth.ndim != 2:
        raise DataError(f'{path}: depth must be [H, W], got shape {depth.shape}')
    if not np.all(np.isfinite(depth)) or depth.min() < 0:
        raise DataError(f'{path}: depth has NaN/inf or negative values')
    return depth


def read_rgbd(frame: RGBDFrame) -> Tuple[np.ndarray, np.ndarray]:
    """RGB uint8 [H, W, 3] and depth in metres [H, W]; sizes must agree."""
    image = read_rgb(frame.image_path)
    depth = read_depth_m(frame.depth_path)
    if depth.shape != image.shape[:2]:
        raise DataError(f'{frame.depth_path}: depth {depth.shape} does not match image '
                        f'{frame.image_path.name} {image.shape[:2]}')
    return image, depth


def render_underwater(frame: RGBDFrame, water_types: Sequence[str], seed: int,
                      depth_below_surface: Tuple[float, float] = (3.0, 5.0),
                      noise_std: float = 0.0) -> Tuple[np.ndarray, np.ndarray, dict]:
    """Push one in-air frame through the formation model.

    The water type and depth below surface are drawn from a generator seeded by
    ``seed`` and the frame key, so a frame renders the same in every run. Pixels without a
    depth measurement (0) take the largest measured range of the frame.

    Returns:
        degraded RGB uint8 [H, W, 3], clean RGB uint8 [H, W, 3] (the exact reference) and the
        formation-model info (``water_type``, ``range_min/mean/max`` in metres, ...).
    """
    import zlib

    from mtlunder.synthesis.formation import degrade

    from .io import float_to_uint8

    image, depth = read_rgbd(frame)
    valid = depth > 0
    if not valid.any():
        raise DataError(f'{frame.depth_path}: no valid depth pixel')
    depth = np.where(valid, depth, depth[valid].max()).astype(np.float32)
    rng = np.random.default_rng([seed, zlib.crc32(frame.key.encode())])
    water_type = str(water_types[rng.integers(len(water_types))])
    below = float(rng.uniform(*depth_below_surface))
    degraded, info = degrade(image.astype(np.float32) / 255.0, depth, water_type, below,
                             rng=rng, noise_std=noise_std)
    info['invalid_depth_fraction'] = float(1.0 - valid.mean())
    return float_to_uint8(degraded), image, info
