"""Procedural backdrops, painted at any size around where the product stands.

Each painter returns float32 RGB (0..255) for the whole canvas. Smooth light is computed on a
coarse grid and upsampled; edges, grain and weave are drawn at full size; a little noise dithers
the gradients so 8-bit output shows no banding. Variants differ only through the seeded generator
(tone, light direction, palette picks), so the same seed always paints the same backdrop.
"""

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

Colour = tuple[float, float, float]
_DITHER_ROWS = 256


@dataclass(frozen=True)
class Stage:
    """The canvas and where the product stands on it, in canvas pixels."""

    size: tuple[int, int]
    box: tuple[int, int, int, int]
    foot: tuple[int, int]
    light: float  # where the key light comes from: -1 left … 1 right

    @property
    def base(self) -> int:
        return self.box[3]

    @property
    def product_height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def unit(self) -> float:
        """The canvas's short side: sizes scale with it so every resolution looks the same."""
        return float(min(self.size))


@dataclass(frozen=True)
class Style:
    """How a preset paints and how it wants the product placed and shadowed."""

    paint: Callable[[Stage, np.random.Generator], np.ndarray]
    shadow: float
    floor: float = 0.12
    fill: float = 0.76
    reflection: float = 0.0


def _smoothstep(low: float, high: float, values: np.ndarray) -> np.ndarray:
    t = np.clip((values - low) / max(high - low, 1e-6), 0, 1)
    return t * t * (3 - 2 * t)


def _jitter(colour: Colour, rng: np.random.Generator, amount: float = 0.025) -> np.ndarray:
    """A colour nudged in tone and brightness, so variants are siblings rather than copies (float32, as the canvas)."""
    return np.clip(np.float32(colour) * (1 + rng.normal(0, amount, 3)) * rng.uniform(0.97, 1.03), 0, 255).astype(np.float32)


def _coarse(stage: Stage, field: Callable[[np.ndarray, np.ndarray], np.ndarray], step: int = 16) -> np.ndarray:
    """Evaluate a smooth field of canvas coordinates on a coarse grid and upsample it."""
    width, height = stage.size
    ys, xs = np.mgrid[0 : height + step : step, 0 : width + step : step].astype(np.float32)
    coarse = field(xs, ys).astype(np.float32)
    matrix = np.float32([[1 / step, 0, 0], [0, 1 / step, 0]])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(coarse, matrix, (width, height), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def _spotlight(stage: Stage, strength: float, spread: float = 0.75) -> np.ndarray:
    """A soft pool of light behind the product, shifted toward the key light, darker corners."""
    x0, y0, x1, y1 = stage.box
    cx = (x0 + x1) / 2 + stage.light * 0.2 * stage.unit
    cy = (y0 + y1) / 2 - 0.05 * stage.unit

    # Measured against the canvas's mean side, so tall story frames do not go grey at the ends.
    reach = spread * float(np.sqrt(stage.size[0] * stage.size[1]))

    def field(xs, ys):
        radius = ((xs - cx) ** 2 + (ys - cy) ** 2) / reach**2
        return 1 - strength * (1 - np.exp(-radius))

    return _coarse(stage, field)


def _dither(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # A band of rows at a time: two full-canvas noise planes would cost as much as a third of the canvas.
    width = pixels.shape[1]
    for top in range(0, pixels.shape[0], _DITHER_ROWS):
        band = pixels[top : top + _DITHER_ROWS]
        rows = band.shape[0]
        band += (rng.random((rows, width, 1), np.float32) - rng.random((rows, width, 1), np.float32))
    return pixels


def _rows(stage: Stage, top: np.ndarray, bottom: np.ndarray, seam: float, softness: float) -> np.ndarray:
    """A vertical blend from `top` to `bottom` around row `seam`, as (height, 1, 3)."""
    rows = np.arange(stage.size[1], dtype=np.float32)
    t = _smoothstep(seam - softness, seam + softness, rows)[:, None]
    return (top * (1 - t) + bottom * t)[:, None, :]


def _sweep(stage: Stage, rng: np.random.Generator, wall: Colour, floor: Colour, vignette: float) -> np.ndarray:
    """A seamless paper sweep: wall tone curving into a lighter floor, lit from behind the product."""
    seam = stage.base - 0.3 * stage.product_height
    colours = _rows(stage, _jitter(wall, rng), _jitter(floor, rng), seam, 0.35 * stage.unit)
    pixels = _spotlight(stage, vignette)[..., None] * colours
    return _dither(pixels, rng)


def _white(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    width, height = stage.size
    return np.full((height, width, 3), 255, np.float32)


def _studio(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    tone = rng.uniform(-5, 5)
    wall = (150 + tone, 152, 156 - tone)
    return _sweep(stage, rng, wall, (218 + tone, 218, 220 - tone), vignette=0.3)


def _pastel(wall: Colour, floor: Colour) -> Callable[[Stage, np.random.Generator], np.ndarray]:
    def paint(stage: Stage, rng: np.random.Generator) -> np.ndarray:
        return _sweep(stage, rng, wall, floor, vignette=0.14)

    return paint


WALL_COLOURS: tuple[Colour, ...] = (
    (184, 194, 172),  # sage
    (214, 170, 146),  # terracotta blush
    (170, 186, 204),  # dusty blue
    (222, 204, 176),  # sand
    (198, 188, 180),  # greige
)


def _seam(stage: Stage, wall: np.ndarray, floor: np.ndarray, horizon: float) -> np.ndarray:
    """A wall meeting a floor at a crisp seam on row `horizon`, floor brightening toward the front."""
    colours = _rows(stage, wall, floor, horizon, 1.0)
    rows = np.arange(stage.size[1], dtype=np.float32)
    depth = np.clip((rows - horizon) / max(stage.size[1] - horizon, 1), 0, 1)
    shading = np.where(rows < horizon, 0.86 + 0.14 * rows / max(horizon, 1), 0.93 + 0.09 * depth)
    # Ambient occlusion where wall meets floor.
    shading -= 0.07 * np.exp(-(((rows - horizon) / (0.012 * stage.unit)) ** 2))
    return np.repeat(colours * shading[:, None, None], stage.size[0], axis=1)


def _horizon(stage: Stage, rng: np.random.Generator, low: float, high: float) -> float:
    """A seam row between `low` and `high` product heights above the base."""
    return stage.base - rng.uniform(low, high) * stage.product_height


def _window_light(stage: Stage, strength: float) -> np.ndarray:
    """Light falling off away from the key light's side, with a gentle vignette."""
    width, height = stage.size

    def field(xs, ys):
        side = (xs / width - 0.5) * stage.light
        corner = ((xs / width - 0.5) ** 2 + (ys / height - 0.45) ** 2)
        return 1 + strength * side - 0.35 * strength * corner

    return _coarse(stage, field)


def _wall(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    wall = _jitter(WALL_COLOURS[rng.integers(len(WALL_COLOURS))], rng)
    floor = np.clip(wall * 0.55 + np.float32([238, 232, 222]) * 0.45, 0, 255)
    pixels = _seam(stage, wall, floor, _horizon(stage, rng, 0.25, 0.4))
    pixels *= _window_light(stage, 0.16)[..., None]
    return _dither(pixels, rng)


PODIUM_COLOURS: tuple[Colour, ...] = (
    (240, 236, 230),  # plaster white
    (206, 138, 108),  # terracotta
    (172, 188, 160),  # sage
    (236, 196, 196),  # rose
    (222, 202, 168),  # travertine
)


def _podium(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    picks = rng.permutation(len(PODIUM_COLOURS))
    wall = _jitter(PODIUM_COLOURS[picks[0]], rng) * 0.93
    cx, top, half, depth, body = podium_geometry(stage)
    pixels = _seam(stage, wall, np.clip(wall * 1.05, 0, 255), top + 0.6 * body)
    pixels *= _spotlight(stage, 0.18, spread=0.9)[..., None]
    _draw_cylinder(pixels, stage, _jitter(PODIUM_COLOURS[picks[1]], rng))
    return _dither(pixels, rng)


def podium_geometry(stage: Stage) -> tuple[float, float, float, float, float]:
    """Centre x, top-ellipse centre y, half width, half depth and body height of the podium."""
    width, height = stage.size
    foot_width = stage.foot[1] - stage.foot[0]
    box_width = stage.box[2] - stage.box[0]
    half = min(max(0.75 * foot_width, 0.62 * box_width, 0.2 * width), 0.47 * width)
    depth = 0.2 * half
    # The product's own footprint is an ellipse whose front edge is the base line: stand it
    # just in front of the podium's centre.
    top = stage.base - 0.6 * depth
    body = max(0.55 * (height - top) - depth, depth)
    return (stage.foot[0] + stage.foot[1]) / 2, top, half, depth, body


def _draw_cylinder(pixels: np.ndarray, stage: Stage, colour: np.ndarray) -> None:
    """Paint a lit cylinder: shaded body, bright top, soft floor shadow, anti-aliased edges."""
    cx, top, half, depth, body = podium_geometry(stage)
    height, width = pixels.shape[:2]
    # Work only on the window the podium and its floor shadow can touch.
    left, right = max(0, int(cx - 1.7 * half)), min(width, int(cx + 1.7 * half) + 2)
    upper, lower = max(0, int(top - depth) - 2), min(height, int(top + body + 3 * depth) + 2)
    window = pixels[upper:lower, left:right]
    ys, xs = np.mgrid[upper:lower, left:right].astype(np.float32)
    across = np.clip((xs - cx) / half, -1, 1)
    round_part = np.sqrt(1 - across**2)
    _floor_shadow(window, xs, ys, (cx, top + body), half, depth)
    shade = 0.62 + 0.38 * np.clip(round_part * 0.85 - stage.light * across * 0.45, 0, 1)
    bottom = top + body + depth * round_part
    sides = _edge(half - np.abs(xs - cx)) * _edge(bottom - ys) * (ys >= top)
    _blend(window, colour * shade[..., None], sides)
    face = _edge(_ellipse_distance(xs, ys, cx, top, half, depth))
    lit = colour * (1.07 - 0.05 * np.clip((top - ys) / depth, -1, 1))[..., None]
    _blend(window, np.clip(lit, 0, 255), face)


def _ellipse_distance(xs, ys, cx, cy, rx, ry) -> np.ndarray:
    """Approximate signed distance in pixels to an ellipse's edge (positive inside)."""
    radius = np.sqrt(((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2)
    return (1 - radius) * min(rx, ry)


def _edge(distance: np.ndarray) -> np.ndarray:
    """Coverage of a pixel by a shape, from its signed distance: one-pixel anti-aliasing."""
    return np.clip(distance + 0.5, 0, 1)


def _blend(pixels: np.ndarray, colour: np.ndarray, coverage: np.ndarray) -> None:
    pixels += (colour - pixels) * coverage[..., None]


def _floor_shadow(pixels, xs, ys, centre, half, depth) -> None:
    radius = np.sqrt(((xs - centre[0]) / (half * 1.15)) ** 2 + ((ys - centre[1]) / (depth * 1.6)) ** 2)
    pixels *= (1 - 0.35 * np.exp(-(radius**2) * 2.2))[..., None]


def _noir(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    wall, floor = _jitter((30, 29, 33), rng), _jitter((44, 42, 46), rng)
    pixels = _seam(stage, wall, floor, _horizon(stage, rng, 0.15, 0.3))
    warm = np.float32([62, 52, 40]) * rng.uniform(0.85, 1.15, 3)
    glow = _glow(stage)
    for channel in range(3):  # one plane at a time: a full-canvas RGB temporary costs 540 MB at 40 MP
        pixels[..., channel] += glow * np.float32(warm[channel])
    return _dither(pixels, rng)


def _glow(stage: Stage) -> np.ndarray:
    x0, y0, x1, y1 = stage.box
    cx, cy = (x0 + x1) / 2 + stage.light * 0.15 * stage.unit, y0 + 0.4 * (y1 - y0)

    def field(xs, ys):
        return np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * (0.33 * stage.unit) ** 2))

    return _coarse(stage, field)


def _linen(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    base = _jitter((226, 214, 194), rng, 0.015)
    shading = _weave(stage, rng)
    shading *= _window_light(stage, 0.18)
    return _dither(shading[..., None] * base, rng)


def _weave(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    """Linen's texture as a brightness map: over-under threads of uneven thickness that fade in
    and out (one noisy line per thread would read as plaid), plus slubs and fibre noise."""
    width, height = stage.size
    thread = max(1.4, stage.unit / 520)
    rows, cols = int(height / thread) + 2, int(width / thread) + 2
    across = np.arange(cols)[None, :]
    down = np.arange(rows)[:, None]
    weft = _threads(rows, rng)[:, None] * _patches((rows, cols), rng)
    warp = _threads(cols, rng)[None, :] * _patches((rows, cols), rng)
    over_under = np.where((across + down) % 2 == 0, 1.0, -1.0)
    fibre = rng.normal(0, 1, (rows, cols))
    grid = 1 + 0.022 * weft + 0.018 * warp + 0.012 * over_under + 0.012 * fibre
    return cv2.resize(grid.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def _patches(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A smooth random field in 0.2..1 at the scale of a few dozen threads."""
    coarse = rng.random((shape[0] // 24 + 2, shape[1] // 24 + 2)).astype(np.float32)
    return 0.2 + 0.8 * cv2.resize(coarse, shape[::-1], interpolation=cv2.INTER_CUBIC).clip(0, 1)


def _threads(count: int, rng: np.random.Generator) -> np.ndarray:
    """Thickness of each thread in a line: fine jitter plus occasional thicker slubs."""
    fine = rng.normal(0, 1, count)
    slubs = np.convolve(rng.normal(0, 1, count) * (rng.random(count) < 0.06), np.ones(3), "same")
    return np.clip(fine + slubs, -3, 3)


def _oak(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    width, height = stage.size
    wall = _jitter((236, 228, 216), rng, 0.015)
    rows = np.arange(height, dtype=np.float32)
    pixels = np.empty((height, width, 3), np.float32)
    pixels[:] = (wall * (0.86 + 0.14 * rows / height)[:, None])[:, None, :]
    horizon = stage.base - rng.uniform(0.25, 0.35) * stage.product_height
    top = int(np.clip(np.floor(horizon), 0, height))
    _blend(pixels[top:], *_wood(stage, rng, horizon, top))
    pixels *= _window_light(stage, 0.14)[..., None]
    return _dither(pixels, rng)


def _wood(stage: Stage, rng: np.random.Generator, horizon: float, top: int) -> tuple[np.ndarray, np.ndarray]:
    """Oak planks from row `top` down, receding to `horizon`, and their coverage of those rows."""
    width, height = stage.size
    ys, xs = np.mgrid[top:height, 0:width].astype(np.float32)
    distance = np.maximum(ys - horizon, 0) / stage.unit
    depth = 1 / (distance + 0.08)  # large near the horizon, small in front
    pixels_per_depth = stage.unit / depth**2  # how many rows one unit of depth spans here
    phase = rng.uniform(0, 6, 2)
    grain = np.sin(depth * 38 + np.sin(xs / stage.unit * 5 + phase[0]) * 0.6 + phase[1])
    # Fade grain and seams where perspective packs them tighter than the pixels can show.
    visible = np.clip(pixels_per_depth / 60 - 0.2, 0, 1)
    plank = depth * 1.6
    tone = 1 + 0.05 * np.sin(np.floor(plank) * 12.9898 + phase[0])
    gap = np.minimum(plank % 1, 1 - plank % 1) / 1.6 * pixels_per_depth
    seams = 1 - 0.28 * np.exp(-((gap / 1.2) ** 2)) * visible
    shade = (0.93 + 0.06 * grain * visible) * tone * seams * (0.9 + 0.1 * np.clip(distance * 3, 0, 1))
    oak = _jitter((198, 158, 114), rng, 0.02)
    return oak * shade[..., None], _edge(ys - horizon)


STYLES: dict[str, Style] = {
    # Pure white has no shadow on purpose: marketplace main images ask for RGB 255,255,255
    # everywhere outside the product, and a shadow there is what reviewers reject most.
    "white": Style(_white, shadow=0.0),
    "studio": Style(_studio, shadow=0.55),
    "wall": Style(_wall, shadow=0.5),
    "blush": Style(_pastel((236, 196, 196), (246, 222, 218)), shadow=0.4),
    "mint": Style(_pastel((190, 224, 206), (222, 242, 230)), shadow=0.4),
    "sky": Style(_pastel((186, 210, 234), (222, 234, 246)), shadow=0.4),
    "podium": Style(_podium, shadow=0.5, floor=0.34, fill=0.6),
    "noir": Style(_noir, shadow=0.6, reflection=0.22),
    "linen": Style(_linen, shadow=0.45),
    "oak": Style(_oak, shadow=0.5),
}
