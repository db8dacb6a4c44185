"""The underwater image formation model, checked against its equations."""
from pathlib import Path

import numpy as np
import pytest

from mtlunder.synthesis.formation import (JERLOV_TYPES, degrade, residual_energy_ratio,
                                          transmission, veiling_light)

SHARED = Path(__file__).resolve().parents[2] / '..' / 'shared' / 'data'


def _clean(seed=0, shape=(24, 32)):
    return np.random.default_rng(seed).random(shape + (3, ), dtype=np.float32)


def test_jerlov_table_has_ten_types_with_ratios_in_unit_interval():
    assert len(JERLOV_TYPES) == 10
    for name, ratio in JERLOV_TYPES.items():
        n = residual_energy_ratio(name)
        assert n.shape == (3, ) and np.all((n > 0) & (n < 1)), name
        assert np.allclose(n, ratio)
    # oceanic water gets more turbid from I to III, coastal from 1C to 9C (green channel)
    for order in (('I', 'IA', 'IB', 'II', 'III'), ('1C', '3C', '5C', '7C', '9C')):
        greens = [JERLOV_TYPES[t][1] for t in order]
        assert greens == sorted(greens, reverse=True)


def test_zero_range_and_zero_depth_give_the_clean_image_exactly():
    clean = _clean()
    out, info = degrade(clean, np.zeros(clean.shape[:2], np.float32), 'II', 0.0)
    assert np.array_equal(out, clean)
    assert info['range_max'] == 0.0


@pytest.mark.parametrize('water_type', ['I', 'III', '3C', '9C'])
def test_zero_range_keeps_only_the_surface_to_scene_attenuation(water_type):
    clean = _clean(1)
    depth = 4.0
    out, info = degrade(clean, np.zeros(clean.shape[:2], np.float32), water_type, depth)
    n = np.asarray(JERLOV_TYPES[water_type], np.float64)
    np.testing.assert_allclose(out, clean * n**depth, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(info['illumination'], n**depth, rtol=1e-5)


@pytest.mark.parametrize('water_type', sorted(JERLOV_TYPES))
def test_very_large_range_tends_to_the_veiling_light(water_type):
    clean = _clean(2)
    b = veiling_light(water_type, 3.5)
    gaps = []
    for far in (20.0, 100.0, 2000.0):
        out, _ = degrade(clean, np.full(clean.shape[:2], far, np.float32), water_type, 3.5)
        gaps.append(np.abs(out - b).max())
        # |I - B| = t |J N**D - B| <= t with t = N**d
        assert gaps[-1] <= max(JERLOV_TYPES[water_type])**far + 1e-6
    assert gaps[0] > gaps[1] >= gaps[2] and gaps[2] < 1e-6


def test_formation_matches_the_equation_per_pixel():
    rng = np.random.default_rng(3)
    clean = _clean(3)
    range_m = rng.uniform(0, 15, clean.shape[:2]).astype(np.float32)
    out, info = degrade(clean, range_m, '1C', 4.2)
    n = np.asarray(JERLOV_TYPES['1C'], np.float64)
    t = n**range_m[..., None].astype(np.float64)
    b = np.clip(1.5 * n**4.2, 0, 1)
    expected = clean * n**4.2 * t + b * (1 - t)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(info['mean_transmission'], t.reshape(-1, 3).mean(0), rtol=1e-4)
    assert info['range_min'] == pytest.approx(range_m.min())
    assert info['range_max'] == pytest.approx(range_m.max())


def test_veiling_light_is_clipped_to_one():
    b = veiling_light('I', 3.0)
    n = np.asarray(JERLOV_TYPES['I'])
    raw = 1.5 * n**3.0
    assert raw[1] > 1 and raw[2] > 1 and raw[0] < 1
    np.testing.assert_allclose(b, np.minimum(raw, 1.0), rtol=1e-6)


def test_transmission_decreases_with_range_and_red_fades_first():
    range_m = np.array([[0.0, 1.0, 5.0, 10.0]], np.float32)
    t = transmission(range_m, 'II')
    assert t.shape == (1, 4, 3)
    assert np.all(np.diff(t[0], axis=0) < 0)
    assert np.all(t[0, 1:, 0] < t[0, 1:, 1])
    np.testing.assert_allclose(t[0, 0], 1.0)


def test_blur_leaves_a_uniform_scene_unchanged():
    clean = np.full((20, 20, 3), 0.6, np.float32)
    range_m = np.full((20, 20), 2.0, np.float32)
    sharp, _ = degrade(clean, range_m, 'IB', 3.0)
    blurred, _ = degrade(clean, range_m, 'IB', 3.0, blur_sigma=2.0)
    np.testing.assert_allclose(blurred, sharp, atol=1e-6)
    edge = clean.copy()
    edge[:, 10:] = 0.1
    a, _ = degrade(edge, range_m, 'IB', 3.0)
    b, _ = degrade(edge, range_m, 'IB', 3.0, blur_sigma=2.0)
    assert np.abs(a - b)[:, 8:12].max() > 0.05


def test_sensor_noise_has_the_requested_std_and_needs_an_rng():
    clean = np.full((128, 128, 3), 0.5, np.float32)
    range_m = np.full((128, 128), 2.0, np.float32)
    base, _ = degrade(clean, range_m, 'II', 3.0)
    noisy, _ = degrade(clean, range_m, 'II', 3.0, np.random.default_rng(0), noise_std=0.02)
    assert np.std(noisy - base) == pytest.approx(0.02, rel=0.05)
    with pytest.raises(ValueError, match='rng'):
        degrade(clean, range_m, 'II', 3.0, noise_std=0.02)


def test_bad_inputs_are_named():
    clean = _clean()
    range_m = np.ones(clean.shape[:2], np.float32)
    with pytest.raises(KeyError, match='Jerlov'):
        degrade(clean, range_m, 'IV', 3.0)
    with pytest.raises(ValueError, match='range map shape'):
        degrade(clean, range_m[:-1], 'II', 3.0)
    bad = range_m.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match='range map'):
        degrade(clean, bad, 'II', 3.0)
    nan_img = clean.copy()
    nan_img[0, 0, 1] = np.nan
    with pytest.raises(ValueError, match='clean image'):
        degrade(nan_img, range_m, 'II', 3.0)
    with pytest.raises(ValueError, match='depth_below_surface'):
        degrade(clean, range_m, 'II', -1.0)


def test_real_rgbd_frame_through_the_water():
    """A real NYUD-v2 frame with its metric depth: I - B == t * (J * N**D - B) exactly."""
    root = SHARED / 'nyud_rgbd_metric'
    if not (root / 'img42.jpg').is_file():
        pytest.skip(f'real RGB-D sample not found at {root} (../shared/data is absent)')
    import cv2

    rgb = cv2.imread(str(root / 'img42.jpg'), cv2.IMREAD_COLOR)
    assert rgb is not None, f'cannot decode {root / "img42.jpg"}'
    clean = cv2.cvtColor(rgb, cv2.COLOR_BGR2RGB)[::4, ::4].astype(np.float32) / 255
    depth = np.loadtxt(root / 'depth42.csv', delimiter=',', dtype=np.float32)[::4, ::4]
    assert depth.shape == clean.shape[:2]
    out, info = degrade(clean, depth, '3C', 4.0)
    t = transmission(depth, '3C')
    b = veiling_light('3C', 4.0)
    light = residual_energy_ratio('3C')**4.0
    np.testing.assert_allclose(out - b, t * (clean * light - b), atol=1e-5)
    assert info['range_max'] == pytest.approx(float(depth.max()))
    # farther pixels sit closer to the veiling light
    far, near = depth > np.percentile(depth, 80), depth < np.percentile(depth, 20)
    gap = np.abs(out - b).sum(-1)
    assert gap[far].mean() < gap[near].mean()
