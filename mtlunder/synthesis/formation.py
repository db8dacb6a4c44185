"""Underwater image formation: turn a clean in-air image and a range map into an underwater one.

Model (METHODS.md section 4, UWCNN-style synthesis with Jerlov water types), per channel c:

    L_c = N_c ** D                      light left after the sun light travels D metres down
    t_c = N_c ** d                      transmission over the camera-to-scene range d (metres)
    B_c = clip(1.5 * N_c ** D, 0, 1)    veiling light (backscatter at infinity)
    I_c = (J_c * L_c) * t_c + B_c * (1 - t_c)

``N`` is the normalised residual energy ratio per metre of the water type ([R, G, B]),
``J`` the clean scene radiance in [0, 1]. Forward scattering (optional Gaussian blur of the
direct component) and Gaussian sensor noise are added on top; the result is clipped to [0, 1].
"""
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

#: Normalised residual energy ratio per metre, [R, G, B], of the ten Jerlov water types
#: (oceanic I..III, coastal 1C..9C), as tabulated by UWCNN.
JERLOV_TYPES: Dict[str, Tuple[float, float, float]] = {
    'I': (0.85, 0.961, 0.982),
    'IA': (0.84, 0.955, 0.975),
    'IB': (0.83, 0.95, 0.968),
    'II': (0.80, 0.925, 0.94),
    'III': (0.75, 0.885, 0.89),
    '1C': (0.75, 0.885, 0.875),
    '3C': (0.71, 0.82, 0.80),
    '5C': (0.67, 0.73, 0.67),
    '7C': (0.62, 0.61, 0.50),
    '9C': (0.55, 0.46, 0.29),
}


def residual_energy_ratio(water_type: str) -> np.ndarray:
    """Return ``N`` of a Jerlov water type as float32 [3] (R, G, B; per metre)."""
    if water_type not in JERLOV_TYPES:
        raise KeyError(f'unknown Jerlov water type {water_type!r}; '
                       f'expected one of {sorted(JERLOV_TYPES)}')
    return np.asarray(JERLOV_TYPES[water_type], dtype=np.float32)


def transmission(range_m: np.ndarray, water_type: str) -> np.ndarray:
    """Per-pixel transmission ``t = N ** d``.

    Args:
        range_m: camera-to-scene range in metres, [H, W], finite and >= 0.
        water_type: key of :data:`JERLOV_TYPES`.

    Returns:
        float32 [H, W, 3] in (0, 1].
    """
    return cv2.merge(_transmission_channels(np.asarray(range_m, np.float32), water_type))


def _transmission_channels(range_m: np.ndarray, water_type: str) -> List[np.ndarray]:
    """``[N_R ** d, N_G ** d, N_B ** d]`` as three float32 [H, W] arrays (exp(d ln N))."""
    return [np.exp(range_m * np.float32(np.log(n))) for n in residual_energy_ratio(water_type)]


def veiling_light(water_type: str, depth_below_surface: float) -> np.ndarray:
    """Veiling light ``B = clip(1.5 * N ** D, 0, 1)``, float32 [3] (R, G, B)."""
    n = residual_energy_ratio(water_type)
    return np.clip(1.5 * n**np.float32(depth_below_surface), 0.0, 1.0).astype(np.float32)


def _check_inputs(clean: np.ndarray, range_m: np.ndarray, depth_below_surface: float) -> None:
    if clean.ndim != 3 or clean.shape[2] != 3:
        raise ValueError(f'clean image must be [H, W, 3], got shape {clean.shape}')
    if range_m.shape != clean.shape[:2]:
        raise ValueError(f'range map shape {range_m.shape} does not match the clean image '
                         f'{clean.shape[:2]}')
    if not np.all(np.isfinite(clean)):
        raise ValueError('clean image contains NaN or inf')
    if not np.all(np.isfinite(range_m)) or range_m.min() < 0:
        raise ValueError('range map must be finite and >= 0 metres '
                         f'(min {np.nanmin(range_m)!r}, has NaN/inf: '
                         f'{not np.all(np.isfinite(range_m))})')
    if not np.isfinite(depth_below_surface) or depth_below_surface < 0:
        raise ValueError(f'depth_below_surface must be >= 0 metres, got {depth_below_surface}')


def degrade(clean: np.ndarray,
            range_m: np.ndarray,
            water_type: str,
            depth_below_surface: float,
            rng: Optional[np.random.Generator] = None,
            noise_std: float = 0.0,
            blur_sigma: float = 0.0) -> Tuple[np.ndarray, dict]:
    """Render a clean image as seen through water.

    Args:
        clean: clean scene radiance ``J``, RGB float in [0, 1], [H, W, 3].
        range_m: camera-to-scene range ``d`` in metres, [H, W].
        water_type: Jerlov type, a key of :data:`JERLOV_TYPES`.
        depth_below_surface: ``D`` in metres (the benchmark uses 3-5).
        rng: random generator for the sensor noise (needed when ``noise_std > 0``).
        noise_std: std of additive Gaussian sensor noise, in [0, 1] intensity units.
        blur_sigma: Gaussian sigma in pixels of the forward-scatter blur applied to the
            direct component ``J * L * t``; 0 disables it.

    Returns:
        degraded: RGB float32 [H, W, 3] in [0, 1].
        info: ``water_type``, ``depth_below_surface``, ``veiling_light`` [3],
            ``illumination`` [3] (= N ** D), ``range_min``/``range_mean``/``range_max`` (m),
            ``noise_std``, ``blur_sigma``, ``mean_transmission`` [3].
    """
    clean = np.asarray(clean, dtype=np.float32)
    range_m = np.asarray(range_m, dtype=np.float32)
    _check_inputs(clean, range_m, depth_below_surface)
    if noise_std > 0 and rng is None:
        raise ValueError('degrade() needs an rng when noise_std > 0')
    n = residual_energy_ratio(water_type)
    illumination = (n**np.float32(depth_below_surface)).astype(np.float32)
    ts = _transmission_channels(range_m, water_type)
    b = veiling_light(water_type, depth_below_surface)

    clean_planes = np.ascontiguousarray(clean.transpose(2, 0, 1))
    planes = [j * (t * light) for j, t, light in zip(clean_planes, ts, illumination)]
    if blur_sigma > 0:
        planes = [cv2.GaussianBlur(p, (0, 0), sigmaX=float(blur_sigma)) for p in planes]
    planes = [p + (b_c - b_c * t) for p, t, b_c in zip(planes, ts, b)]
    if noise_std > 0:
        noise = np.float32(noise_std) * rng.standard_normal((3, ) + range_m.shape, np.float32)
        planes = [p + n for p, n in zip(planes, noise)]
    degraded = np.clip(cv2.merge(planes), 0.0, 1.0)

    info = dict(
        water_type=water_type,
        depth_below_surface=float(depth_below_surface),
        veiling_light=b.tolist(),
        illumination=illumination.tolist(),
        mean_transmission=[float(t.mean()) for t in ts],
        range_min=float(range_m.min()),
        range_mean=float(range_m.mean()),
        range_max=float(range_m.max()),
        noise_std=float(noise_std),
        blur_sigma=float(blur_sigma),
    )
    return degraded, info
