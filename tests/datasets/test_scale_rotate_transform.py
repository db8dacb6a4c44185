"""PairedRandomScaleRotate: one draw moves the input and every dense label, each by the
rule of its kind; normals turn with the image."""
import numpy as np
import pytest

from mtlunder.datasets.transforms import PairedRandomScaleRotate


def _results(h=24, w=24, seed=0):
    rng = np.random.default_rng(seed)
    seg = rng.integers(0, 20, (h, w)).astype(np.uint8)
    img = np.stack([seg, 255 - seg, seg // 2], axis=-1).astype(np.uint8)
    depth = rng.uniform(1, 5, (h, w)).astype(np.float32)
    normal = rng.normal(size=(h, w, 3)).astype(np.float32)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    return dict(img=img, img_shape=(h, w), gt_seg_map=seg, gt_depth=depth, gt_normal=normal,
                gt_sal=(seg > 9).astype(np.uint8), img_path='x.png')


def _radial(h, w):
    """Unit normals whose (x right, y down) part points away from the image centre."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    vec = np.stack([xs - (w - 1) / 2, ys - (h - 1) / 2, np.full_like(xs, 3.0)], axis=-1)
    return vec / np.linalg.norm(vec, axis=-1, keepdims=True)


def test_quarter_turn_is_an_exact_rot90():
    res = _results()
    before = {k: v.copy() for k, v in res.items() if isinstance(v, np.ndarray)}
    out = PairedRandomScaleRotate(scale_choices=[1.0], rotate_range=(90, 90))(res)
    assert out['scale_rotate'] == (1.0, 90.0)
    for key in ('img', 'gt_seg_map', 'gt_depth', 'gt_sal'):
        assert np.array_equal(out[key], np.rot90(before[key])), key  # counter-clockwise
    # (x, y down) -> (y, -x): a vector pointing right now points up
    n = before['gt_normal']
    turned = np.stack([n[..., 1], -n[..., 0], n[..., 2]], axis=-1)
    assert np.allclose(out['gt_normal'], np.rot90(turned), atol=1e-6)


@pytest.mark.parametrize('angle', [20.0, -35.0, 90.0])
def test_normals_turn_with_the_image(angle):
    """A field pointing away from the centre looks the same after any rotation about the
    centre if, and only if, the vectors turn with the pixels."""
    h = w = 41
    res = dict(img=np.zeros((h, w, 3), np.uint8), gt_normal=_radial(h, w))
    out = PairedRandomScaleRotate(scale_choices=[1.0], rotate_range=(angle, angle))(res)
    ys, xs = np.mgrid[0:h, 0:w]
    ring = np.hypot(xs - 20, ys - 20)
    inside = (ring > 6) & (ring < 19)
    cos = (out['gt_normal'] * _radial(h, w)).sum(-1)[inside]
    # vectors moved but not turned would be off by the angle: cos <= 0.95 at radius 12
    assert cos.min() > 0.98


def test_zoom_in_divides_depth_and_keeps_the_centre():
    res = _results(h=21, w=21)
    depth, seg = res['gt_depth'].copy(), res['gt_seg_map'].copy()
    out = PairedRandomScaleRotate(scale_choices=[2.0])(res)
    assert out['gt_depth'][10, 10] == pytest.approx(depth[10, 10] / 2)
    assert out['gt_seg_map'][10, 10] == seg[10, 10]
    # destination pixel (10 + 2k) shows source pixel 10 + k
    assert np.array_equal(out['gt_seg_map'][10, 10:20:2], seg[10, 10:15])
    assert np.allclose(out['gt_depth'][10, 10:20:2], depth[10, 10:15] / 2)


def test_zoom_out_borders_are_ignored_or_black():
    res = _results(h=32, w=32)
    out = PairedRandomScaleRotate(scale_range=(0.5, 0.5), rotate_range=(10, 10))(res)
    assert out['img'].shape == (32, 32, 3) and out['gt_seg_map'].shape == (32, 32)
    assert (out['img'][0, 0] == 0).all()
    assert out['gt_seg_map'][0, 0] == 255 and out['gt_sal'][0, 0] == 255
    assert out['gt_depth'][0, 0] == 0
    assert (out['gt_normal'][0, 0] == 0).all()
    valid = np.linalg.norm(out['gt_normal'], axis=-1)
    assert np.allclose(valid[valid > 0], 1, atol=1e-5)
    assert out['gt_depth'].dtype == np.float32 and out['gt_seg_map'].dtype == np.uint8


def test_one_draw_moves_input_and_labels_alike():
    np.random.seed(3)
    t = PairedRandomScaleRotate(scale_range=(0.75, 1.25), rotate_range=(-20, 20),
                                interpolation='nearest')
    for _ in range(5):
        out = t(_results(h=30, w=40, seed=1))
        seg = out['gt_seg_map']
        labelled = seg != 255
        assert labelled.mean() > 0.5
        assert np.array_equal(out['img'][..., 0][labelled], seg[labelled])
        assert np.array_equal(out['gt_sal'][labelled], (seg[labelled] > 9).astype(np.uint8))
        scale, angle = out['scale_rotate']
        assert 0.75 <= scale <= 1.25 and -20 <= angle <= 20


def test_discrete_scales_and_no_rotation():
    np.random.seed(0)
    t = PairedRandomScaleRotate(scale_choices=[1.0, 1.2, 1.5])
    draws = {t(_results(h=8, w=8))['scale_rotate'] for _ in range(40)}
    assert draws == {(1.0, 0.0), (1.2, 0.0), (1.5, 0.0)}


def test_bad_arguments_and_boxes_are_refused():
    with pytest.raises(ValueError, match='exactly one'):
        PairedRandomScaleRotate()
    with pytest.raises(ValueError, match='exactly one'):
        PairedRandomScaleRotate(scale_range=(1, 2), scale_choices=[1.0])
    with pytest.raises(ValueError, match='rotate_range'):
        PairedRandomScaleRotate(scale_choices=[1.0], rotate_range=(20, -20))
    with pytest.raises(ValueError, match='positive'):
        PairedRandomScaleRotate(scale_range=(0, 1))
    res = _results()
    res['gt_bboxes'] = np.array([[1, 1, 5, 5]], np.float32)
    with pytest.raises(ValueError, match='x.png'):
        PairedRandomScaleRotate(scale_choices=[1.0])(res)


def test_registered_and_runs_in_a_pipeline():
    from mmcv.transforms import Compose

    pipeline = Compose([
        dict(type='PairedRandomFlip', prob=1.0),
        dict(type='PairedRandomScaleRotate', scale_range=(0.75, 1.25), rotate_range=(-20, 20)),
        dict(type='PairedResize', scale=(16, 12), keep_ratio=False)])
    out = pipeline(_results(h=30, w=40))
    assert out['img'].shape == (12, 16, 3) and out['gt_normal'].shape == (12, 16, 3)
    assert out['homography_matrix'].shape == (3, 3)
