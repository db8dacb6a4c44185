"""Sprites: the four DUO/URPC classes and the unlabelled distractors, drawn with cv2.

Every ``draw_*`` function takes a random generator, the object centre (x, y) in image pixels
and a size scale (1.0 = the size range of a 320x320 image), and returns a :class:`Sprite`:
a small RGB patch in [0, 1] with the object's full binary mask, positioned in image
coordinates (the patch may extend past the image border; the compositor crops it).
"""
from dataclasses import dataclass
from typing import Sequence, Tuple

import cv2
import numpy as np

from .noise import value_noise

#: DUO / URPC class order; category id = index + 1.
CLASSES = ('holothurian', 'echinus', 'scallop', 'starfish')

_SUB = 4  # fixed-point bits for cv2 drawing (sub-pixel accurate polygons)

_HOLOTHURIAN_RGB = ((0.30, 0.20, 0.12), (0.13, 0.10, 0.08), (0.22, 0.20, 0.14),
                    (0.40, 0.28, 0.16), (0.08, 0.07, 0.07))
_ECHINUS_RGB = ((0.12, 0.06, 0.14), (0.26, 0.10, 0.24), (0.07, 0.10, 0.08),
                (0.28, 0.10, 0.08), (0.05, 0.05, 0.06))
_SCALLOP_RGB = ((0.93, 0.86, 0.72), (0.90, 0.90, 0.86), (0.93, 0.76, 0.70),
                (0.96, 0.76, 0.52), (0.84, 0.72, 0.56))
_STARFISH_RGB = ((0.95, 0.45, 0.10), (0.82, 0.16, 0.10), (0.52, 0.16, 0.46),
                 (0.92, 0.30, 0.16), (0.96, 0.62, 0.14), (0.40, 0.12, 0.38))
_ROCK_RGB = ((0.42, 0.42, 0.40), (0.35, 0.31, 0.26), (0.30, 0.33, 0.28), (0.52, 0.48, 0.42))
_WEED_RGB = ((0.22, 0.38, 0.14), (0.34, 0.44, 0.12), (0.38, 0.28, 0.12), (0.16, 0.30, 0.18))


@dataclass
class Sprite:
    """An object patch. ``x0``/``y0``: image position of the patch's top-left pixel;
    ``rgb``: float32 [h, w, 3] in [0, 1]; ``mask``: bool [h, w], the object's full extent."""
    x0: int
    y0: int
    rgb: np.ndarray
    mask: np.ndarray


def _jitter(rng: np.random.Generator, palette: Sequence[Tuple[float, float, float]],
            amount: float = 0.05) -> np.ndarray:
    base = np.asarray(palette[rng.integers(len(palette))], np.float32)
    return np.clip(base + rng.uniform(-amount, amount, 3).astype(np.float32), 0.0, 1.0)


def _rotate(points: np.ndarray, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return points @ np.array([[c, s], [-s, c]], np.float32)


def _fixed(points: np.ndarray, centre: float) -> np.ndarray:
    """Local float coordinates around ``centre`` -> cv2 fixed-point int32 [N, 1, 2]."""
    return np.round((points + centre) * (1 << _SUB)).astype(np.int32).reshape(-1, 1, 2)


def _dots(rgb: np.ndarray, centres: np.ndarray, radius: float,
          color: Tuple[float, float, float]) -> None:
    """Paint filled antialiased discs of ``radius`` px (at least 0.8) at ``centres``
    ([N, 1, 2] fixed-point, from :func:`_fixed`) into ``rgb`` in place."""
    r = int(max(0.8, radius) * (1 << _SUB))
    for p in centres[:, 0].tolist():
        cv2.circle(rgb, p, r, color, -1, cv2.LINE_AA, _SUB)


def _canvas(radius: float) -> Tuple[int, float, np.ndarray, np.ndarray]:
    size = int(np.ceil(2 * radius)) + 3
    return size, size / 2.0, np.zeros((size, size), np.uint8), np.zeros((size, size, 3),
                                                                         np.float32)


def _rounded(mask: np.ndarray, depth: float) -> np.ndarray:
    """Shading [h, w, 1] that darkens towards the mask outline (a rounded, 3D look)."""
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    peak = max(float(dist.max()), 1.0)
    return (1.0 - depth + depth * np.sqrt(dist / peak))[..., None]


def _finish(rng: np.random.Generator, cx: float, cy: float, centre: float, mask: np.ndarray,
            rgb: np.ndarray, texture: float, cells: float, shade: float) -> Sprite:
    """Multiply by mottled texture and rounded shading, return the positioned sprite."""
    tex = 1.0 - texture / 2 + texture * value_noise(rng, mask.shape, cells)[..., None]
    rgb = np.clip(rgb * tex * _rounded(mask, shade), 0.0, 1.0)
    return Sprite(int(round(cx - centre)), int(round(cy - centre)), rgb, mask > 0)


def draw_holothurian(rng: np.random.Generator, cx: float, cy: float, scale: float) -> Sprite:
    """Sea cucumber: elongated, bent, dark brown/black body with warty bumps."""
    length = rng.uniform(34, 88) * scale
    width = length * rng.uniform(0.26, 0.40)
    size, c, mask, rgb = _canvas(length / 2 + width)
    s = np.linspace(-1, 1, 28, dtype=np.float32)
    bend = rng.uniform(-0.3, 0.3)
    mid = np.stack([s * length / 2, bend * length * (s**2 - 0.33) * 0.5], 1)
    half = width / 2 * (1 - s**2)**0.35 * (1 + rng.uniform(-0.2, 0.2) * s)
    outline = np.concatenate([mid - [0, 1] * half[:, None], (mid + [0, 1] * half[:, None])[::-1]])
    angle = rng.uniform(0, 2 * np.pi)
    outline, mid = _rotate(outline, angle), _rotate(mid, angle)
    base = _jitter(rng, _HOLOTHURIAN_RGB, 0.04)
    color = tuple(float(v) for v in base)
    cv2.fillPoly(mask, [_fixed(outline, c)], 255, cv2.LINE_8, _SUB)
    cv2.fillPoly(rgb, [_fixed(outline, c)], color, cv2.LINE_8, _SUB)
    # warts on the outline and paler papillae on the back
    warts = _fixed(outline[rng.choice(len(outline), size=rng.integers(8, 18), replace=False)], c)
    for p in warts[:, 0].tolist():
        r = int(max(1.0, width * rng.uniform(0.07, 0.14)) * (1 << _SUB))
        cv2.circle(mask, p, r, 255, -1, cv2.LINE_8, _SUB)
        cv2.circle(rgb, p, r, color, -1, cv2.LINE_8, _SUB)
    pale = tuple(float(v) for v in np.clip(base * rng.uniform(1.6, 2.4) + 0.05, 0, 1))
    k = rng.integers(2, len(mid) - 2, size=rng.integers(5, 12))
    dots = _fixed(mid[k] + rng.normal(0, width * 0.15, (len(k), 2)).astype(np.float32), c)
    _dots(rgb, dots, width * 0.06, pale)
    rgb *= (mask > 0)[..., None]
    return _finish(rng, cx, cy, c, mask, rgb, texture=0.5, cells=size / 5, shade=0.55)


def draw_echinus(rng: np.random.Generator, cx: float, cy: float, scale: float) -> Sprite:
    """Sea urchin: dark round test with many radial spines."""
    body = rng.uniform(8, 19) * scale
    spine = body * rng.uniform(0.55, 1.0)
    size, c, mask, rgb = _canvas(body + spine * 1.25)
    base = _jitter(rng, _ECHINUS_RGB, 0.03)
    n = int(rng.integers(30, 64))
    angles = rng.uniform(0, 2 * np.pi, n)
    lengths = body + spine * rng.uniform(0.7, 1.25, n)
    tips = _fixed(np.stack([np.cos(angles) * lengths, np.sin(angles) * lengths], 1), c)
    tones = np.clip(base * rng.uniform(0.8, 1.8, (n, 1)), 0, 1).tolist()
    thick = 1 if body < 12 else 2
    start = (int(round(c * (1 << _SUB))), ) * 2
    for tip, tone in zip(tips[:, 0].tolist(), tones):
        cv2.line(mask, start, tip, 255, thick, cv2.LINE_8, _SUB)
        cv2.line(rgb, start, tip, tone, thick, cv2.LINE_8, _SUB)
    cv2.circle(mask, start, int(body * (1 << _SUB)), 255, -1, cv2.LINE_8, _SUB)
    cv2.circle(rgb, start, int(body * (1 << _SUB)), tuple(float(v) for v in base), -1,
               cv2.LINE_8, _SUB)
    return _finish(rng, cx, cy, c, mask, rgb, texture=0.6, cells=size / 4, shade=0.5)


def draw_scallop(rng: np.random.Generator, cx: float, cy: float, scale: float) -> Sprite:
    """Scallop: pale fan-shaped shell with radial ribs, a scalloped rim and hinge ears."""
    radius = rng.uniform(14, 32) * scale
    size, c, mask, rgb = _canvas(radius * 1.15)
    half_span = np.deg2rad(rng.uniform(52, 72))
    ribs = int(rng.integers(10, 20))
    hinge = np.array([0.0, 0.5 * radius], np.float32)
    theta = np.linspace(-half_span, half_span, 72, dtype=np.float32)
    rim = radius * (0.96 + 0.05 * np.abs(np.cos(np.pi * ribs * (theta + half_span) /
                                                (2 * half_span))))
    fan = hinge + np.stack([np.sin(theta) * rim, -np.cos(theta) * rim], 1)
    ear = hinge + np.array([[-0.42, 0.08], [-0.36, -0.18], [0.36, -0.18], [0.42, 0.08]],
                           np.float32) * radius
    angle = rng.uniform(-np.pi, np.pi)
    fan, ear, hinge_r = _rotate(fan, angle), _rotate(ear, angle), _rotate(hinge[None], angle)
    base = _jitter(rng, _SCALLOP_RGB, 0.04)
    color = tuple(float(v) for v in base)
    polys = [_fixed(np.concatenate([hinge_r, fan]), c), _fixed(ear, c)]
    cv2.fillPoly(mask, polys, 255, cv2.LINE_8, _SUB)
    cv2.fillPoly(rgb, polys, color, cv2.LINE_8, _SUB)
    rib_tone = tuple(float(v) for v in base * rng.uniform(0.6, 0.78))
    start = tuple(_fixed(hinge_r, c)[0, 0].tolist())
    for end in _fixed(fan[::max(1, len(fan) // ribs)], c)[:, 0].tolist():
        cv2.line(rgb, start, end, rib_tone, 1, cv2.LINE_AA, _SUB)
    rgb *= (mask > 0)[..., None]
    return _finish(rng, cx, cy, c, mask, rgb, texture=0.25, cells=size / 6, shade=0.3)


def draw_starfish(rng: np.random.Generator, cx: float, cy: float, scale: float) -> Sprite:
    """Starfish: five tapering, slightly curled arms; orange, red or purple, with tubercles."""
    radius = rng.uniform(15, 44) * scale
    size, c, mask, rgb = _canvas(radius * 1.12)
    inner = rng.uniform(0.26, 0.42)
    sharp = rng.uniform(1.5, 3.0)
    phase = rng.uniform(0, 2 * np.pi)
    arm_len = rng.uniform(0.82, 1.08, 5)
    theta = np.linspace(0, 2 * np.pi, 200, endpoint=False, dtype=np.float32)
    arm = np.round((theta - phase) * 5 / (2 * np.pi)).astype(int) % 5
    profile = ((1 + np.cos(5 * (theta - phase))) / 2)**sharp
    r = radius * arm_len[arm] * (inner + (1 - inner) * profile)
    theta = theta + rng.uniform(-0.35, 0.35) * (r / radius)**2
    outline = np.stack([np.cos(theta) * r, np.sin(theta) * r], 1).astype(np.float32)
    base = _jitter(rng, _STARFISH_RGB, 0.05)
    cv2.fillPoly(mask, [_fixed(outline, c)], 255, cv2.LINE_8, _SUB)
    cv2.fillPoly(rgb, [_fixed(outline, c)], tuple(float(v) for v in base), cv2.LINE_8, _SUB)
    dot = tuple(float(v) for v in np.clip(base * 1.3 + 0.12, 0, 1))
    arms = phase + 2 * np.pi * np.arange(5) / 5
    along = np.linspace(0.15, 0.8, 5)[None] * arm_len[:, None] * radius
    dots = _fixed(np.stack([np.cos(arms)[:, None] * along, np.sin(arms)[:, None] * along],
                           -1).reshape(-1, 2).astype(np.float32), c)
    _dots(rgb, dots, radius * 0.05, dot)
    rgb *= (mask > 0)[..., None]
    return _finish(rng, cx, cy, c, mask, rgb, texture=0.35, cells=size / 5, shade=0.45)


def draw_rock(rng: np.random.Generator, cx: float, cy: float, scale: float) -> Sprite:
    """Unlabelled rock: irregular grey/brown blob with strong shading."""
    radius = rng.uniform(10, 48) * scale
    size, c, mask, rgb = _canvas(radius * 1.35)
    theta = np.linspace(0, 2 * np.pi, 48, endpoint=False, dtype=np.float32)
    r = np.ones_like(theta)
    for k in (2, 3, 5):
        r += rng.uniform(0, 0.22 / k * 2) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    r *= radius * rng.uniform(0.6, 1.0, 1)
    outline = np.stack([np.cos(theta) * r * rng.uniform(0.6, 1.0), np.sin(theta) * r], 1)
    outline = _rotate(outline.astype(np.float32), rng.uniform(0, np.pi))
    cv2.fillPoly(mask, [_fixed(outline, c)], 255, cv2.LINE_8, _SUB)
    rgb[:] = _jitter(rng, _ROCK_RGB, 0.06)
    rgb *= (mask > 0)[..., None]
    return _finish(rng, cx, cy, c, mask, rgb, texture=0.8, cells=size / 4, shade=0.7)


def draw_weed(rng: np.random.Generator, cx: float, cy: float, scale: float) -> Sprite:
    """Unlabelled seaweed tuft: a few wavy green/brown strands from one base point."""
    length = rng.uniform(25, 85) * scale
    size, c, mask, rgb = _canvas(length * 1.05)
    base = _jitter(rng, _WEED_RGB, 0.05)
    heading = rng.uniform(0, 2 * np.pi)
    for _ in range(int(rng.integers(3, 9))):
        direction = heading + rng.uniform(-0.7, 0.7)
        ln = length * rng.uniform(0.5, 1.0)
        s = np.linspace(0, 1, 16, dtype=np.float32)
        wave = rng.uniform(0.03, 0.12) * ln * np.sin(2 * np.pi * rng.uniform(0.7, 2.0) * s
                                                    + rng.uniform(0, 2 * np.pi)) * s
        pts = _rotate(np.stack([s * ln, wave], 1), -direction)
        tone = tuple(float(v) for v in np.clip(base * rng.uniform(0.7, 1.3), 0, 1))
        thick = max(1, int(round(rng.uniform(1.5, 4.0) * scale)))
        cv2.polylines(mask, [_fixed(pts, c)], False, 255, thick, cv2.LINE_8, _SUB)
        cv2.polylines(rgb, [_fixed(pts, c)], False, tone, thick, cv2.LINE_8, _SUB)
    return _finish(rng, cx, cy, c, mask, rgb, texture=0.4, cells=size / 6, shade=0.2)


#: Drawers of the labelled classes, in category-id order.
CLASS_DRAWERS = (draw_holothurian, draw_echinus, draw_scallop, draw_starfish)
