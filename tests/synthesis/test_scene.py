"""Procedural scenes: determinism and labels that sit on their objects."""
import numpy as np
import pytest

from mtlunder.synthesis.scene import render_scene
from mtlunder.synthesis.sprites import CLASS_DRAWERS, CLASSES


@pytest.fixture(scope='module')
def scenes():
    return [render_scene(np.random.default_rng([7, i]), (320, 320), range_limits=(1.5, 9.0))
            for i in range(8)]


def test_same_seed_same_scene_different_seed_different_scene():
    a = render_scene(np.random.default_rng([1, 0]), (96, 128))
    b = render_scene(np.random.default_rng([1, 0]), (96, 128))
    c = render_scene(np.random.default_rng([1, 1]), (96, 128))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.range_m, b.range_m)
    assert np.array_equal(a.instances, b.instances) and a.objects == b.objects
    assert not np.array_equal(a.image, c.image)
    assert a.image.shape == (96, 128, 3) and a.range_m.shape == (96, 128)


def test_every_box_is_the_tight_box_of_its_visible_mask(scenes):
    fills = []
    for scene in scenes:
        ids = [o['instance_id'] for o in scene.objects]
        assert len(set(ids)) == len(ids)
        assert set(np.unique(scene.instances)) <= {0, *ids}
        for obj in scene.objects:
            mask = scene.instances == obj['instance_id']
            ys, xs = np.nonzero(mask)
            x, y, w, h = obj['bbox']
            assert [x, y, w, h] == [xs.min(), ys.min(), xs.max() - xs.min() + 1,
                                    ys.max() - ys.min() + 1]
            assert obj['area'] == mask.sum()
            fill = mask.sum() / float(w * h)
            assert fill > 0.1, obj
            fills.append(fill)
            assert 1 <= obj['category_id'] <= len(CLASSES)
            assert obj['iscrowd'] == int(obj['visible_fraction'] < 0.3)
            assert 0 < obj['visible_fraction'] <= 1
    assert np.mean(fills) > 0.4


def test_objects_are_sized_and_counted_for_a_320_detector(scenes):
    counts = [len(s.objects) for s in scenes]
    assert max(counts) <= 8 and np.mean(counts) >= 2
    sides = np.array([max(o['bbox'][2:]) for s in scenes for o in s.objects if not o['iscrowd']])
    assert sides.max() <= 130 and np.median(sides) >= 20
    classes = {o['category_id'] for s in scenes for o in s.objects}
    assert len(classes) == len(CLASSES)


def test_objects_differ_from_the_seabed_they_cover(scenes):
    """Each visible animal is a distinct colour region: its mean colour is away from the ring
    of background just outside its box."""
    gaps = []
    for scene in scenes:
        for obj in scene.objects:
            if obj['iscrowd']:
                continue
            mask = scene.instances == obj['instance_id']
            x, y, w, h = obj['bbox']
            ring = np.zeros_like(mask)
            ring[max(y - 6, 0):y + h + 6, max(x - 6, 0):x + w + 6] = True
            ring[y:y + h, x:x + w] = False
            ring &= scene.instances == 0
            if ring.sum() < 20:
                continue
            gaps.append(np.abs(scene.image[mask].mean(0) - scene.image[ring].mean(0)).max())
    assert np.median(gaps) > 0.08


def test_range_map_is_a_plausible_tilted_seabed(scenes):
    for scene in scenes:
        r = scene.range_m
        assert np.all(np.isfinite(r)) and r.min() >= 1.5 - 0.3 and r.max() <= 9.0
        # seen in perspective: the top of the frame is farther than the bottom
        assert r[:20].mean() > r[-20:].mean()


@pytest.mark.parametrize('category', range(len(CLASSES)))
def test_each_class_drawer_gives_a_connected_patch_with_valid_colours(category):
    sprite = CLASS_DRAWERS[category](np.random.default_rng(category), 50.0, 60.0, 1.0)
    assert sprite.mask.any() and sprite.rgb.shape == sprite.mask.shape + (3, )
    assert sprite.rgb.min() >= 0 and sprite.rgb.max() <= 1
    ys, xs = np.nonzero(sprite.mask)
    centre = (sprite.x0 + (xs.min() + xs.max()) / 2, sprite.y0 + (ys.min() + ys.max()) / 2)
    assert abs(centre[0] - 50) < 20 and abs(centre[1] - 60) < 20
    import cv2

    n, _ = cv2.connectedComponents(sprite.mask.astype(np.uint8))
    assert n - 1 <= 3  # one body (thin spines/warts may leave tiny detached bits)
