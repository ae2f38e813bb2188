"""Procedural product photos with known masks, for the cut-out tests and the benchmark.

Each photo is drawn from its index alone: a product of one of several shapes (round, box, bottle,
mug with an open handle, star, a pair of items) with shading and a texture, on a plain, gradient,
vignetted or lightly textured background, with a soft shadow, sensor noise and JPEG artefacts.
A flat lay is drawn the same way as if from above: a uniform surface, a drop shadow all round.
"""

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

SHAPES = ("round", "box", "bottle", "mug", "star", "pair")
BACKGROUNDS = ("plain", "gradient", "vignette", "texture")
_SUPERSAMPLE = 4


@dataclass(frozen=True)
class SyntheticPhoto:
    image: Image.Image
    mask: np.ndarray
    shape: str
    background: str


def synthetic_photo(index: int, size: tuple[int, int] = (600, 750)) -> SyntheticPhoto:
    """Draw photo number `index` (deterministic) with its true product mask."""
    rng = np.random.default_rng(1000 + index)
    shape, background = SHAPES[index % len(SHAPES)], BACKGROUNDS[(index // len(SHAPES)) % len(BACKGROUNDS)]
    coverage = _coverage(shape, size, rng)
    backdrop = _background(background, size, rng)
    backdrop *= _shadow(coverage, rng)[..., None]
    return _photograph(coverage, backdrop, rng, shape, background)


def synthetic_flat_lay(index: int, size: tuple[int, int] = (600, 750)) -> SyntheticPhoto:
    """Draw flat lay number `index`: a product as if shot from straight above, lying on a plain or
    vignetted surface, with a soft drop shadow all round it (none at all for every third one)."""
    rng = np.random.default_rng(2000 + index)
    shape, background = SHAPES[index % len(SHAPES)], ("plain", "vignette")[(index // len(SHAPES)) % 2]
    coverage = _coverage(shape, size, rng)
    backdrop = _background(background, size, rng)
    if index % 3:
        backdrop *= _drop_shadow(coverage, rng)[..., None]
    return _photograph(coverage, backdrop, rng, shape, background)


def _photograph(coverage: np.ndarray, backdrop: np.ndarray, rng: np.random.Generator, shape: str, background: str) -> SyntheticPhoto:
    """The product over its backdrop, with sensor noise and JPEG artefacts."""
    product = _product_colours(coverage.shape, rng)
    pixels = backdrop * (1 - coverage[..., None]) + product * coverage[..., None]
    pixels += rng.normal(0, 1.5, pixels.shape)
    image = _jpeg(np.clip(pixels, 0, 255).astype(np.uint8), int(rng.integers(70, 93)))
    return SyntheticPhoto(image, coverage > 0.5, shape, background)


def _coverage(shape: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Anti-aliased product coverage in 0..1, drawn large and averaged down."""
    width, height = size
    canvas = np.zeros((height * _SUPERSAMPLE, width * _SUPERSAMPLE), np.uint8)
    scale = _SUPERSAMPLE * min(width, height) * rng.uniform(0.36, 0.5)
    centre = (canvas.shape[1] * rng.uniform(0.42, 0.58), canvas.shape[0] * rng.uniform(0.45, 0.55))
    _DRAW[shape](canvas, np.array(centre), scale, rng)
    small = cv2.resize(canvas, size, interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255


def _poly(canvas: np.ndarray, points: np.ndarray, value: int = 255) -> None:
    cv2.fillPoly(canvas, [np.round(points).astype(np.int32)], value)


def _round(canvas, centre, scale, rng):
    angles = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    wobble = 1 + sum(rng.uniform(-0.08, 0.08) * np.cos(k * angles + rng.uniform(0, 6)) for k in (2, 3, 5))
    aspect = rng.uniform(0.6, 1.15)
    _poly(canvas, centre + np.c_[np.cos(angles) * aspect, np.sin(angles)] * scale * wobble[:, None])


def _box(canvas, centre, scale, rng):
    half = np.array([rng.uniform(0.5, 0.85), rng.uniform(0.6, 1.05)]) * scale
    tilt = rng.uniform(-0.25, 0.25)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half
    rotation = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
    _poly(canvas, centre + corners @ rotation.T)


def _bottle(canvas, centre, scale, rng):
    body_w, neck_w = scale * rng.uniform(0.4, 0.6), scale * rng.uniform(0.14, 0.22)
    top, shoulder, bottom = -scale * 1.15, -scale * rng.uniform(0.2, 0.45), scale * 1.0
    outline = [(-neck_w, top), (neck_w, top), (neck_w, shoulder - scale * 0.2), (body_w, shoulder),
               (body_w, bottom), (-body_w, bottom), (-body_w, shoulder), (-neck_w, shoulder - scale * 0.2)]
    _poly(canvas, centre + np.array(outline))


def _mug(canvas, centre, scale, rng):
    half_w, half_h = scale * rng.uniform(0.5, 0.65), scale * rng.uniform(0.6, 0.8)
    body = np.array([[-half_w, -half_h], [half_w, -half_h], [half_w, half_h], [-half_w, half_h]])
    _poly(canvas, centre + body)
    handle = tuple(int(v) for v in centre + (half_w, 0))
    outer = (int(half_w * 0.55), int(half_h * 0.55))
    cv2.ellipse(canvas, handle, outer, 0, -90, 90, 255, -1)
    cv2.ellipse(canvas, handle, (int(outer[0] * 0.55), int(outer[1] * 0.6)), 0, -90, 90, 0, -1)


def _star(canvas, centre, scale, rng):
    points = int(rng.integers(5, 8))
    angles = np.linspace(0, 2 * np.pi, points * 2, endpoint=False) + rng.uniform(0, 1)
    radii = np.where(np.arange(points * 2) % 2 == 0, 1.0, rng.uniform(0.45, 0.65)) * scale
    _poly(canvas, centre + np.c_[np.cos(angles), np.sin(angles)] * radii[:, None])


def _pair(canvas, centre, scale, rng):
    for side in (-1, 1):
        offset = np.array([side * scale * 0.6, rng.uniform(-0.1, 0.1) * scale])
        _round(canvas, centre + offset, scale * 0.42, rng)


_DRAW = {"round": _round, "box": _box, "bottle": _bottle, "mug": _mug, "star": _star, "pair": _pair}


def _background(kind: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Light, low-saturation backdrop colours as float32 (h, w, 3)."""
    width, height = size
    base = rng.uniform(200, 245) + rng.uniform(-12, 12, 3)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = xs / width - 0.5, ys / height - 0.5
    if kind == "gradient":
        field = 1 - rng.uniform(0.1, 0.25) * (v + 0.5) * rng.choice((-1, 1)) - 0.05 * u
    elif kind == "vignette":
        field = 1 - rng.uniform(0.15, 0.3) * (u * u + v * v) * 2
    elif kind == "texture":
        grain = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 1.2)
        field = 1 + 0.03 * grain - 0.06 * v
    else:
        field = np.ones((height, width), np.float32)
    return (field[..., None] * base).astype(np.float32)


def _shadow(coverage: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A soft contact shadow under the product, as a multiplier on the backdrop."""
    rows = np.nonzero(coverage.max(axis=1) > 0.5)[0]
    foot = coverage[rows[-1] - max(2, (rows[-1] - rows[0]) // 20) : rows[-1] + 1]
    cols = np.nonzero(foot.max(axis=0) > 0.5)[0]
    blob = np.zeros_like(coverage)
    centre = (int(cols.mean()), int(rows[-1]))
    axes = (max(4, int((cols[-1] - cols[0]) * 0.55)), max(3, int((rows[-1] - rows[0]) * 0.06)))
    cv2.ellipse(blob, centre, axes, 0, 0, 360, 1.0, -1)
    blob = cv2.GaussianBlur(blob, (0, 0), axes[1] * 1.5 + 2)
    return 1 - rng.uniform(0.15, 0.45) * blob / max(blob.max(), 1e-6)


def _drop_shadow(coverage: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A soft shadow all round a product lying flat, pushed a little away from an overhead light."""
    side = min(coverage.shape)
    shift = np.float32([[1, 0, rng.uniform(-0.012, 0.012) * side], [0, 1, rng.uniform(0, 0.012) * side]])
    moved = cv2.warpAffine(coverage, shift, coverage.shape[::-1])
    blob = cv2.GaussianBlur(moved, (0, 0), rng.uniform(0.01, 0.025) * side)
    return 1 - rng.uniform(0.15, 0.35) * blob


def _product_colours(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Product surface: a colour with cylinder shading, a highlight and a texture or label."""
    height, width = shape
    hsv = np.uint8([[[rng.integers(0, 180), rng.integers(20, 255), rng.integers(50, 235)]]])
    colour = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = xs / width * 6 + rng.uniform(0, np.pi)
    shade = 0.75 + 0.2 * np.cos(angle) + 0.3 * np.exp(-20 * (angle % (2 * np.pi) - 2) ** 2)
    surface = colour * shade[..., None]
    texture = int(rng.integers(0, 3))
    if texture == 0:
        surface *= (1 + 0.12 * np.sign(np.sin(ys / rng.uniform(6, 20))))[..., None]
    elif texture == 1:
        surface += cv2.GaussianBlur(rng.normal(0, 14, (height, width, 3)).astype(np.float32), (0, 0), 1.0)
    else:
        label = (np.abs(ys / height - 0.5) < 0.06)[..., None]
        surface = np.where(label, 255 - colour * 0.5, surface)
    return np.clip(surface, 0, 255)


def _jpeg(pixels: np.ndarray, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


# A standing figure as (label, box in percent of width and height), drawn in this order.
_FIGURE = (("Left-leg", (36, 75, 48, 98)), ("Right-leg", (52, 75, 64, 98)), ("Pants", (35, 55, 65, 80)),
           ("Left-arm", (20, 28, 32, 59)), ("Right-arm", (68, 28, 80, 59)), ("Upper-clothes", (30, 25, 70, 57)),
           ("Hair", (37, 4, 63, 15)), ("Face", (38, 8, 62, 24)))


def synthetic_person(labels: tuple[str, ...], size: tuple[int, int] = (120, 200), seed: int = 3) -> tuple[Image.Image, np.ndarray]:
    """A blocky standing figure in a noisy top and trousers, with its clothes-parsing label map.

    `labels` is the parser's label list (index = label id); it must name every part of the figure.
    """
    width, height = size
    label_map = np.full((height, width), labels.index("Background"), np.uint8)
    for name, (x0, y0, x1, y1) in _FIGURE:
        label_map[y0 * height // 100 : y1 * height // 100, x0 * width // 100 : x1 * width // 100] = labels.index(name)
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (len(labels), 3))
    pixels = palette[label_map] + rng.integers(-12, 13, (height, width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), label_map
