"""Procedural seabed scenes with labelled marine animals, distractors and a range map.

A scene is rendered clean (in-air radiance ``J``): textured sand / rock / algae seabed,
unlabelled rocks and weed behind the animals, 2-8 animals of the four DUO/URPC classes
(some crowded, some cut by the frame), weed and rocks in front of some of them, and uneven
lighting. Boxes are the tight boxes of each animal's *visible* mask after all occlusion.
The per-pixel class map comes from the same visible masks (no random draws of its own).
"""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import cv2
import numpy as np

from .channels import modulate
from .noise import fbm, value_noise
from .sprites import CLASS_DRAWERS, Sprite, draw_rock, draw_weed

#: Class-map value of pixels that carry no class label (see :class:`Scene`).
IGNORE_INDEX = 255

_SAND_RGB = ((0.78, 0.70, 0.54), (0.70, 0.64, 0.52), (0.62, 0.58, 0.50), (0.82, 0.76, 0.62),
             (0.55, 0.50, 0.42))
_ROCK_BED_RGB = ((0.40, 0.39, 0.36), (0.33, 0.30, 0.26), (0.46, 0.44, 0.40))
_ALGAE_RGB = ((0.36, 0.44, 0.22), (0.42, 0.38, 0.20))


@dataclass
class Scene:
    """A rendered clean scene.

    Attributes:
        image: clean RGB float32 [H, W, 3] in [0, 1].
        range_m: camera-to-scene range in metres, float32 [H, W].
        instances: int32 [H, W]; pixel value = ``instance_id`` of the labelled object seen
            there, 0 elsewhere (background, distractors, unlabelled objects).
        objects: one dict per labelled object: ``instance_id``, ``category_id`` (1-4),
            ``bbox`` [x, y, w, h] (tight box of the visible mask, pixels), ``area`` (visible
            pixels), ``visible_fraction``, ``iscrowd`` (1 = too occluded to count; ignore).
        class_map: uint8 [H, W] semantic labels: the ``category_id`` (1-4 = holothurian,
            echinus, scallop, starfish) of the front-most animal seen at the pixel, 0 for
            background (seabed, distractor rocks and weed). Every pixel of a boxed animal
            (``iscrowd`` 0 or 1) carries its class, so it equals ``category_id`` of
            ``instances`` where ``instances > 0``. The visible pixels of an animal too small
            to be labelled (no box, see :func:`render_scene`) are :data:`IGNORE_INDEX`
            (255): they are an animal, yet the detection labels say "no object" there.
    """
    image: np.ndarray
    range_m: np.ndarray
    instances: np.ndarray
    objects: List[dict] = field(default_factory=list)
    class_map: Optional[np.ndarray] = None


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - np.float32(lo)) * np.float32(1 / (hi - lo)), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _pick(rng: np.random.Generator, palette, amount: float = 0.04) -> np.ndarray:
    base = np.asarray(palette[rng.integers(len(palette))], np.float32)
    return np.clip(base + rng.uniform(-amount, amount, 3).astype(np.float32), 0, 1)


def render_seabed(rng: np.random.Generator, shape: Tuple[int, int]) -> np.ndarray:
    """Sand with ripples and grain, patches of rock bed and algae. float32 [H, W, 3].

    Built as three [H, W] planes (fast elementwise work) and interleaved once at the end.
    """
    h, w = shape
    broad = fbm(rng, shape, cells=rng.uniform(2.5, 6), octaves=4)
    grain = value_noise(rng, shape, cells=max(h, w) / 2.0) - 0.5
    angle = rng.uniform(0, np.pi)
    wavelength = rng.uniform(0.05, 0.12) * max(h, w)
    k = np.float32(2 * np.pi / wavelength)
    phase = (np.arange(w, dtype=np.float32) * (k * np.cos(angle))
             + np.arange(h, dtype=np.float32)[:, None] * (k * np.sin(angle)) + 8 * broad)
    ripple = np.float32(rng.uniform(0.0, 0.25)) * (0.5 + 0.5 * np.sin(phase))
    shade = 0.72 + 0.4 * broad + 0.16 * grain - ripple
    planes = [shade * c for c in _pick(rng, _SAND_RGB)]

    rock_amount = rng.uniform(-0.1, 0.6)
    if rock_amount > 0:
        rocky = fbm(rng, shape, cells=rng.uniform(3, 7), octaves=4)
        weight = _smoothstep(rocky, 1 - rock_amount, 1 - rock_amount + 0.08)
        rock = 0.55 + 0.7 * rocky + 0.2 * grain
        planes = [p + (rock * c - p) * weight for p, c in zip(planes, _pick(rng, _ROCK_BED_RGB))]
    algae_amount = rng.uniform(-0.2, 0.5)
    if algae_amount > 0:
        algae = fbm(rng, shape, cells=rng.uniform(4, 8), octaves=3)
        weight = 0.6 * _smoothstep(algae, 1 - algae_amount, 1 - algae_amount + 0.15)
        tone = 0.95 + 0.5 * grain
        planes = [p + (tone * c - p) * weight for p, c in zip(planes, _pick(rng, _ALGAE_RGB))]
    return cv2.merge(planes)


def render_lighting(rng: np.random.Generator, shape: Tuple[int, int]) -> np.ndarray:
    """Multiplicative light field [H, W]: brightness, gradient, vignette, spot light."""
    h, w = shape
    yy, xx = np.indices(shape, dtype=np.float32)
    u, v = xx / max(w - 1, 1) - 0.5, yy / max(h - 1, 1) - 0.5
    light = rng.uniform(0.75, 1.1) * (1 + rng.uniform(-0.3, 0.3) * u + rng.uniform(-0.3, 0.3) * v)
    light = light * (1 - rng.uniform(0.0, 0.6) * (u * u + v * v))
    if rng.random() < 0.5:
        su, sv, sigma = rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), rng.uniform(0.15, 0.4)
        light = light * (1 + rng.uniform(0.1, 0.4) * np.exp(-((u - su)**2 + (v - sv)**2)
                                                           / (2 * sigma**2)))
    return light.astype(np.float32)


def render_range(rng: np.random.Generator, shape: Tuple[int, int], near: float,
                 far: float) -> np.ndarray:
    """Range map of a tilted seabed plane, metres, float32 [H, W].

    The bottom row is ``near``, the top row ``far``; inverse range is linear in the image
    row (a plane seen in perspective), with a small sideways tilt and gentle undulation.
    """
    h, w = shape
    yy, xx = np.indices(shape, dtype=np.float32)
    up = 1 - yy / max(h - 1, 1)
    side = xx / max(w - 1, 1) - 0.5
    inv = 1 / near + (1 / far - 1 / near) * up
    inv = inv * (1 + rng.uniform(-0.1, 0.1) * side)
    rng_m = (1 / inv) * (1 + 0.06 * (fbm(rng, shape, cells=3, octaves=2) - 0.5))
    return np.clip(rng_m, min(near, far), max(near, far)).astype(np.float32)


def _paste(img: np.ndarray, owner: np.ndarray, sprite: Sprite, label: int,
           shadow: float = 0.0) -> Optional[Tuple[int, int, int, int]]:
    """Composite ``sprite`` into ``img`` in place, mark ``owner`` with ``label``.

    Returns the clipped image window (x0, y0, x1, y1), or None when fully outside.
    """
    h, w = sprite.mask.shape
    big_h, big_w = owner.shape
    gx0, gy0 = max(sprite.x0, 0), max(sprite.y0, 0)
    gx1, gy1 = min(sprite.x0 + w, big_w), min(sprite.y0 + h, big_h)
    if gx1 <= gx0 or gy1 <= gy0:
        return None
    sx, sy = gx0 - sprite.x0, gy0 - sprite.y0
    crop = np.s_[sy:sy + gy1 - gy0, sx:sx + gx1 - gx0]
    mask = sprite.mask[crop]
    region = img[gy0:gy1, gx0:gx1]
    if shadow > 0:
        soft = np.roll(sprite.mask.view(np.uint8), (2, 2), (0, 1)) * np.uint8(255)
        k = 3 + 2 * int(0.04 * max(h, w))
        soft = cv2.blur(soft, (k, k))[crop]
        region[:] = modulate(region, 1 - np.float32(shadow / 255) * soft)
    region[mask] = sprite.rgb[crop][mask]
    owner[gy0:gy1, gx0:gx1][mask] = label
    return gx0, gy0, gx1, gy1


def _positions(rng: np.random.Generator, n: int, shape: Tuple[int, int]) -> np.ndarray:
    """Object centres [n, 2] (x, y): uniform, or a crowd around one point."""
    h, w = shape
    if rng.random() < 0.3:
        centre = rng.uniform(0.25, 0.75, 2) * [w, h]
        pts = centre + rng.normal(0, 0.13, (n, 2)) * [w, h]
    else:
        pts = rng.uniform(0.04, 0.96, (n, 2)) * [w, h]
    return np.clip(pts, 0, [w - 1, h - 1])


def render_scene(rng: np.random.Generator,
                 size: Tuple[int, int] = (320, 320),
                 num_objects: Tuple[int, int] = (2, 8),
                 range_limits: Tuple[float, float] = (1.5, 12.0),
                 min_visible: float = 0.3,
                 min_area: float = 40.0) -> Scene:
    """Render one clean seabed scene with labelled animals.

    Args:
        rng: random generator (the whole scene is a function of its state).
        size: (height, width) in pixels; object sizes scale with min(H, W) / 320.
        num_objects: inclusive range of the number of animals placed.
        range_limits: (near, far) metres of the seabed plane (bottom and top rows).
        min_visible: an animal with a smaller visible fraction of its full mask (occluded
            or cut by the frame) is labelled ``iscrowd=1`` (ignored by training/evaluation).
        min_area: an animal with fewer visible pixels than this (at 320x320; scaled with the
            image area) or a box side under 4 px gets no box (not labelled for detection);
            its visible pixels are :data:`IGNORE_INDEX` in ``class_map``.

    Returns:
        :class:`Scene`. ``range_m`` is final (animals already raised above the seabed): it
        is the range the formation model is given.
    """
    h, w = size
    scale = min(h, w) / 320.0
    img = render_seabed(rng, (h, w))
    range_m = render_range(rng, (h, w), *range_limits)
    owner = np.zeros((h, w), np.int32)

    def anywhere() -> Tuple[float, float]:
        return rng.uniform(0, w), rng.uniform(0, h)

    for _ in range(int(rng.integers(0, 4))):
        _paste(img, owner, draw_rock(rng, *anywhere(), scale), 0, shadow=0.4)
    for _ in range(int(rng.integers(0, 4))):
        _paste(img, owner, draw_weed(rng, *anywhere(), scale), 0, shadow=0.2)

    mid_range = float(range_m[h // 2, w // 2])
    n = int(rng.integers(num_objects[0], num_objects[1] + 1))
    placed = []
    for k, (x, y) in enumerate(_positions(rng, n, (h, w)), start=1):
        category = int(rng.integers(len(CLASS_DRAWERS)))
        perspective = float(np.clip(mid_range / range_m[int(y), int(x)], 0.75, 1.3))
        sprite = CLASS_DRAWERS[category](rng, x, y, scale * perspective)
        if _paste(img, owner, sprite, k, shadow=0.35) is not None:
            placed.append((k, category + 1, sprite))

    for _ in range(int(rng.integers(0, 3))):
        if placed and rng.random() < 0.6:
            _, _, target = placed[rng.integers(len(placed))]
            th, tw = target.mask.shape
            x = target.x0 + tw / 2 + rng.normal(0, tw / 3)
            y = target.y0 + th / 2 + rng.normal(0, th / 3)
            draw = draw_weed if rng.random() < 0.75 else draw_rock
            _paste(img, owner, draw(rng, x, y, scale), 0, shadow=0.2)

    img = modulate(img, render_lighting(rng, (h, w)))
    img = cv2.GaussianBlur(np.clip(img, 0, 1), (0, 0), 0.5)

    objects, instances = [], np.zeros((h, w), np.int32)
    class_map = np.zeros((h, w), np.uint8)
    for k, category_id, sprite in placed:
        sh, sw = sprite.mask.shape
        x0, y0 = max(sprite.x0, 0), max(sprite.y0, 0)
        window = owner[y0:sprite.y0 + sh, x0:sprite.x0 + sw] == k
        visible = int(window.sum())
        if visible == 0:
            continue
        range_m[y0:sprite.y0 + sh, x0:sprite.x0 + sw][window] -= rng.uniform(0.03, 0.25)
        ys, xs = np.nonzero(window)
        bbox = [x0 + int(xs.min()), y0 + int(ys.min()), int(xs.max() - xs.min()) + 1,
                int(ys.max() - ys.min()) + 1]
        if visible < min_area * scale * scale or min(bbox[2:]) < 4:
            class_map[y0:sprite.y0 + sh, x0:sprite.x0 + sw][window] = IGNORE_INDEX
            continue
        fraction = visible / float(sprite.mask.sum())
        instances[y0:sprite.y0 + sh, x0:sprite.x0 + sw][window] = k
        class_map[y0:sprite.y0 + sh, x0:sprite.x0 + sw][window] = category_id
        objects.append(dict(instance_id=k, category_id=category_id, bbox=bbox, area=visible,
                            visible_fraction=round(fraction, 4),
                            iscrowd=int(fraction < min_visible)))
    return Scene(image=img.astype(np.float32), range_m=np.maximum(range_m, 0.0),
                 instances=instances, objects=objects, class_map=class_map)
