"""Procedural backdrops, painted at any size around where the product stands.

Each painter returns float32 RGB (0..255) for the whole canvas. Smooth light is computed on a
coarse grid and upsampled; edges, grain and weave are drawn at full size; a little noise dithers
the gradients so 8-bit output shows no banding.

A variant's look comes from its seed alone, through `look_of`: three key-light sides, four surface
shades and five camera heights (each with its palette pick), enumerated so that seed s paints look
s % LOOK_CYCLE and consecutive seeds differ on every axis. The seeded generator adds only fine
texture (linen's threads) and dither, so the same seed always paints the same backdrop, and look 0
(seed 0, which the gallery renders) is what the first variant of every job shows.

Seen from above (a flat lay), a painter draws the surface the product lies on, with no wall, seam or
horizon.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from shopshot.pipeline.presets import LOOK_CYCLE

Colour = tuple[float, float, float]
_DITHER_ROWS = 256


@dataclass(frozen=True)
class Look:
    """One deliberate variant of a preset."""

    light: float = -0.8  # where the key light comes from: -1 left … 1 right
    shade: int = 0  # which of the preset's surface tones (0..3)
    camera: float = 0.3  # the floor line's height above the product's base, in product heights
    pick: int = 0  # which palette entry (0..4), for presets with a palette


_LIGHTS = (-0.8, 0.8, 0.0)
_SHADES = 4
_CAMERAS = (0.3, 0.6, 0.1, 0.45, 0.2)
# Pairwise coprime axis lengths (3, 4, 5): looks repeat only after their product, LOOK_CYCLE.


def look_of(seed: int) -> Look:
    """The look seed `seed` paints: axis i takes index seed mod its length, so neighbours differ on all."""
    index = seed % LOOK_CYCLE
    camera = index % len(_CAMERAS)
    return Look(_LIGHTS[index % len(_LIGHTS)], index % _SHADES, _CAMERAS[camera], camera)


@dataclass(frozen=True)
class Stage:
    """The canvas and where the product stands (or, seen from above, lies) on it, in canvas pixels."""

    size: tuple[int, int]
    box: tuple[int, int, int, int]
    foot: tuple[int, int]
    look: Look = Look()
    overhead: bool = False

    @property
    def light(self) -> float:
        return self.look.light

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


def _colour(colour: Colour) -> np.ndarray:
    return np.array(colour, np.float32)


def _paler(colour: Colour, amount: float) -> np.ndarray:
    """A colour moved toward white by `amount` (negative: deeper, away from white)."""
    paler: np.ndarray = np.clip(255 - (255 - np.array(colour, np.float32)) * (1 - amount), 0, 255)
    return paler


def _coarse(stage: Stage, field: Callable[[np.ndarray, np.ndarray], np.ndarray], step: int = 16) -> np.ndarray:
    """Evaluate a smooth field of canvas coordinates on a coarse grid and upsample it."""
    width, height = stage.size
    ys, xs = np.mgrid[0 : height + step : step, 0 : width + step : step].astype(np.float32)
    coarse = field(xs, ys).astype(np.float32)
    matrix = np.array([[1 / step, 0, 0], [0, 1 / step, 0]], np.float32)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(coarse, matrix, (width, height), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def _spotlight(stage: Stage, strength: float, spread: float = 0.75) -> np.ndarray:
    """A soft pool of light behind the product, shifted toward the key light, darker corners."""
    x0, y0, x1, y1 = stage.box
    cx = (x0 + x1) / 2 + stage.light * 0.3 * stage.unit
    cy = (y0 + y1) / 2 - 0.05 * stage.unit

    # Measured against the canvas's mean side, so tall story frames do not go grey at the ends.
    reach = spread * float(np.sqrt(stage.size[0] * stage.size[1]))

    def field(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        radius = ((xs - cx) ** 2 + (ys - cy) ** 2) / reach**2
        return 1 - strength * (1 - np.exp(-radius))

    return _coarse(stage, field)


def _dither(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # A band of rows at a time: two full-canvas noise planes would cost as much as a third of the canvas.
    width = pixels.shape[1]
    for top in range(0, pixels.shape[0], _DITHER_ROWS):
        band = pixels[top : top + _DITHER_ROWS]
        rows = band.shape[0]
        band += rng.random((rows, width, 1), np.float32) - rng.random((rows, width, 1), np.float32)
    return pixels


def _rows(stage: Stage, top: np.ndarray, bottom: np.ndarray, seam: float, softness: float) -> np.ndarray:
    """A vertical blend from `top` to `bottom` around row `seam`, as (height, 1, 3)."""
    rows = np.arange(stage.size[1], dtype=np.float32)
    t = _smoothstep(seam - softness, seam + softness, rows)[:, None]
    blend: np.ndarray = (top * (1 - t) + bottom * t)[:, None, :]
    return blend


def _horizon(stage: Stage, scale: float = 1.0) -> float:
    """The floor line's row for the look's camera height (`scale` adapts it to a preset's floor)."""
    return stage.base - scale * stage.look.camera * stage.product_height


def _flat(stage: Stage, colour: np.ndarray, light: np.ndarray) -> np.ndarray:
    """A plain surface seen from above under a light map: no seam, no horizon."""
    flat: np.ndarray = np.broadcast_to(colour, (*stage.size[::-1], 3)) * light[..., None]
    return flat


def _sweep(stage: Stage, rng: np.random.Generator, wall: np.ndarray, floor: np.ndarray, vignette: float) -> np.ndarray:
    """A seamless paper sweep: wall tone curving into a lighter floor, lit from behind the product."""
    light = _spotlight(stage, vignette) * _window_light(stage, 0.2)
    if stage.overhead:
        return _dither(_flat(stage, floor, light), rng)
    colours = _rows(stage, wall, floor, _horizon(stage), 0.3 * stage.unit)
    return _dither(colours * light[..., None], rng)


def _white(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    width, height = stage.size
    return np.full((height, width, 3), 255, np.float32)


# Wall greys, light to dark to lightest to mid; the floor is the wall plus a fixed step.
STUDIO_GREYS = (164.0, 108.0, 192.0, 136.0)


def _studio(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    grey = STUDIO_GREYS[stage.look.shade]
    wall = _colour((grey, grey + 2, grey + 6))
    return _sweep(stage, rng, wall, np.clip(wall + 66, 0, 246), vignette=0.3)


# How far from the preset's own pastel each shade moves, toward white (paler) or away (deeper).
PASTEL_SHADES = (0.0, -0.9, 0.5, -0.45)


def _pastel(wall: Colour, floor: Colour) -> Callable[[Stage, np.random.Generator], np.ndarray]:
    def paint(stage: Stage, rng: np.random.Generator) -> np.ndarray:
        amount = PASTEL_SHADES[stage.look.shade]
        return _sweep(stage, rng, _paler(wall, amount), _paler(floor, amount), vignette=0.14)

    return paint


WALL_COLOURS: tuple[Colour, ...] = (
    (184, 194, 172),  # sage
    (214, 170, 146),  # terracotta blush
    (170, 186, 204),  # dusty blue
    (222, 204, 176),  # sand
    (198, 188, 180),  # greige
)
# How much of a pale cream each shade mixes into the wall's colour for the floor.
FLOOR_MIX = (0.45, 0.15, 0.75, 0.3)


def _seam(stage: Stage, wall: np.ndarray, floor: np.ndarray, horizon: float) -> np.ndarray:
    """A wall meeting a floor at a crisp seam on row `horizon`, floor brightening toward the front."""
    colours = _rows(stage, wall, floor, horizon, 1.0)
    rows = np.arange(stage.size[1], dtype=np.float32)
    depth = np.clip((rows - horizon) / max(stage.size[1] - horizon, 1), 0, 1)
    shading = np.where(rows < horizon, 0.86 + 0.14 * rows / max(horizon, 1), 0.93 + 0.09 * depth)
    # Ambient occlusion where wall meets floor.
    shading -= 0.07 * np.exp(-(((rows - horizon) / (0.012 * stage.unit)) ** 2))
    return np.repeat(colours * shading[:, None, None], stage.size[0], axis=1)


def _window_light(stage: Stage, strength: float) -> np.ndarray:
    """Light falling off away from the key light's side, with a gentle vignette."""
    width, height = stage.size

    def field(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        side = (xs / width - 0.5) * stage.light
        corner = (xs / width - 0.5) ** 2 + (ys / height - 0.45) ** 2
        return 1 + strength * side - 0.35 * strength * corner

    return _coarse(stage, field)


def _wall(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    wall = _colour(WALL_COLOURS[stage.look.pick])
    mix = FLOOR_MIX[stage.look.shade]
    floor = np.clip(wall * (1 - mix) + np.array([238, 232, 222], np.float32) * mix, 0, 255)
    if stage.overhead:
        pixels = _flat(stage, floor, np.ones(stage.size[::-1], np.float32))
    else:
        pixels = _seam(stage, wall, floor, _horizon(stage, 1.1))
    return _dither(pixels * _window_light(stage, 0.24)[..., None], rng)


PODIUM_COLOURS: tuple[Colour, ...] = (
    (240, 236, 230),  # plaster white
    (206, 138, 108),  # terracotta
    (172, 188, 160),  # sage
    (236, 196, 196),  # rose
    (222, 202, 168),  # travertine
)


# How bright the wall behind the podium is, per shade.
PODIUM_WALL_SHADES = (0.92, 0.76, 1.0, 0.84)


def podium_colours(look: Look) -> tuple[np.ndarray, np.ndarray]:
    """The wall and podium colours of a look: the podium is the pick, the wall two entries on."""
    wall = _colour(PODIUM_COLOURS[(look.pick + 2) % len(PODIUM_COLOURS)]) * PODIUM_WALL_SHADES[look.shade]
    return np.clip(wall, 0, 255), _colour(PODIUM_COLOURS[look.pick])


def _podium(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    wall, podium = podium_colours(stage.look)
    if stage.overhead:
        pixels = _flat(stage, wall, _spotlight(stage, 0.18, spread=0.9) * _window_light(stage, 0.2)).copy()
        _draw_disc(pixels, stage, podium)
        return _dither(pixels, rng)
    _cx, top, _half, _depth, body = podium_geometry(stage)
    pixels = _seam(stage, wall, np.clip(wall * 1.05, 0, 255), top + 0.6 * body)
    pixels *= (_spotlight(stage, 0.18, spread=0.9) * _window_light(stage, 0.2))[..., None]
    _draw_cylinder(pixels, stage, podium)
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


def _draw_disc(pixels: np.ndarray, stage: Stage, colour: np.ndarray) -> None:
    """The podium seen from above: a round top under the product, its shadow pushed from the light."""
    x0, y0, x1, y1 = stage.box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    radius = min(0.62 * max(x1 - x0, y1 - y0), 0.48 * stage.unit)
    reach = 0.03 * stage.unit
    # Work only on the window the disc and its shadow can touch.
    extent = radius + 5 * reach
    left, right = max(0, int(cx - extent)), min(stage.size[0], int(cx + extent) + 2)
    upper, lower = max(0, int(cy - extent)), min(stage.size[1], int(cy + extent) + 2)
    window = pixels[upper:lower, left:right]
    ys, xs = np.mgrid[upper:lower, left:right].astype(np.float32)
    offset = np.hypot(xs - cx + stage.light * reach, ys - cy - reach)
    window *= (1 - 0.3 * (1 - _smoothstep(radius - reach, radius + 3 * reach, offset)))[..., None]
    distance = np.hypot(xs - cx, ys - cy)
    lit = 1.04 - 0.06 * np.clip((xs - cx) * stage.light + (ys - cy), -radius, radius) / radius
    _blend(window, np.clip(colour * lit[..., None], 0, 255), _edge(radius - distance))


def _ellipse_distance(xs: np.ndarray, ys: np.ndarray, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    """Approximate signed distance in pixels to an ellipse's edge (positive inside)."""
    radius = np.sqrt(((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2)
    distance: np.ndarray = (1 - radius) * min(rx, ry)
    return distance


def _edge(distance: np.ndarray) -> np.ndarray:
    """Coverage of a pixel by a shape, from its signed distance: one-pixel anti-aliasing."""
    return np.clip(distance + 0.5, 0, 1)


def _blend(pixels: np.ndarray, colour: np.ndarray, coverage: np.ndarray) -> None:
    pixels += (colour - pixels) * coverage[..., None]


def _floor_shadow(
    pixels: np.ndarray, xs: np.ndarray, ys: np.ndarray, centre: tuple[float, float], half: float, depth: float
) -> None:
    radius = np.sqrt(((xs - centre[0]) / (half * 1.15)) ** 2 + ((ys - centre[1]) / (depth * 1.6)) ** 2)
    pixels *= (1 - 0.35 * np.exp(-(radius**2) * 2.2))[..., None]


# The spotlight's colour per shade: amber, a neutral white, rose, a cool steel.
NOIR_GLOWS: tuple[Colour, ...] = ((84, 62, 36), (92, 92, 96), (96, 44, 62), (40, 64, 104))


def _noir(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    wall, floor = _colour((30, 29, 33)), _colour((48, 46, 50))
    if stage.overhead:
        pixels = _flat(stage, floor, np.ones(stage.size[::-1], np.float32)).copy()
    else:
        pixels = _seam(stage, wall, floor, _horizon(stage, 0.7))
    glow, tint = _glow(stage), _colour(NOIR_GLOWS[stage.look.shade])
    for channel in range(3):  # one plane at a time: a full-canvas RGB temporary costs 540 MB at 40 MP
        pixels[..., channel] += glow * tint[channel]
    return _dither(pixels, rng)


def _glow(stage: Stage) -> np.ndarray:
    x0, y0, x1, y1 = stage.box
    cx, cy = (x0 + x1) / 2 + stage.light * 0.3 * stage.unit, y0 + 0.4 * (y1 - y0)

    def field(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * (0.33 * stage.unit) ** 2))

    return _coarse(stage, field)


# Natural flax, oatmeal, grey and bleached linen.
LINEN_COLOURS: tuple[Colour, ...] = ((226, 214, 194), (208, 190, 160), (200, 199, 194), (240, 236, 228))


def _linen(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    base = _colour(LINEN_COLOURS[stage.look.shade])
    shading = _weave(stage, rng)
    shading *= _window_light(stage, 0.3)
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
    weave: np.ndarray = cv2.resize(grid.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    return weave


def _patches(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A smooth random field in 0.2..1 at the scale of a few dozen threads."""
    coarse = rng.random((shape[0] // 24 + 2, shape[1] // 24 + 2)).astype(np.float32)
    return 0.2 + 0.8 * cv2.resize(coarse, shape[::-1], interpolation=cv2.INTER_CUBIC).clip(0, 1)


def _threads(count: int, rng: np.random.Generator) -> np.ndarray:
    """Thickness of each thread in a line: fine jitter plus occasional thicker slubs."""
    fine = rng.normal(0, 1, count)
    slubs = np.convolve(rng.normal(0, 1, count) * (rng.random(count) < 0.06), np.ones(3), "same")
    return np.clip(fine + slubs, -3, 3)


# Light oak, honey, whitewashed and smoked oak.
OAK_COLOURS: tuple[Colour, ...] = ((198, 158, 114), (178, 128, 78), (214, 190, 158), (132, 96, 66))


def _oak(stage: Stage, rng: np.random.Generator) -> np.ndarray:
    width, height = stage.size
    oak = _colour(OAK_COLOURS[stage.look.shade])
    if stage.overhead:
        pixels = oak * _planks(stage)[..., None]
    else:
        wall = _colour((236, 228, 216))
        rows = np.arange(height, dtype=np.float32)
        pixels = np.empty((height, width, 3), np.float32)
        pixels[:] = (wall * (0.86 + 0.14 * rows / height)[:, None])[:, None, :]
        horizon = _horizon(stage, 0.9)
        top = int(np.clip(np.floor(horizon), 0, height))
        _blend(pixels[top:], *_wood(stage, oak, horizon, top))
    pixels *= _window_light(stage, 0.2)[..., None]
    return _dither(pixels, rng)


def _grain_phase(look: Look) -> tuple[float, float]:
    """Where the grain and the plank tones start: part of the look, so a look's planks are its own."""
    return 1.2 + 1.7 * look.pick, 0.8 + 2.3 * look.shade


def _wood(stage: Stage, oak: np.ndarray, horizon: float, top: int) -> tuple[np.ndarray, np.ndarray]:
    """Oak planks from row `top` down, receding to `horizon`, and their coverage of those rows."""
    width, height = stage.size
    ys, xs = np.mgrid[top:height, 0:width].astype(np.float32)
    distance = np.maximum(ys - horizon, 0) / stage.unit
    depth = 1 / (distance + 0.08)  # large near the horizon, small in front
    pixels_per_depth = stage.unit / depth**2  # how many rows one unit of depth spans here
    phase = _grain_phase(stage.look)
    grain = np.sin(depth * 38 + np.sin(xs / stage.unit * 5 + phase[0]) * 0.6 + phase[1])
    # Fade grain and seams where perspective packs them tighter than the pixels can show.
    visible = np.clip(pixels_per_depth / 60 - 0.2, 0, 1)
    plank = depth * 1.6
    tone = 1 + 0.05 * np.sin(np.floor(plank) * 12.9898 + phase[0])
    gap = np.minimum(plank % 1, 1 - plank % 1) / 1.6 * pixels_per_depth
    seams = 1 - 0.28 * np.exp(-((gap / 1.2) ** 2)) * visible
    shade = (0.93 + 0.06 * grain * visible) * tone * seams * (0.9 + 0.1 * np.clip(distance * 3, 0, 1))
    return oak * shade[..., None], _edge(ys - horizon)


def _planks(stage: Stage) -> np.ndarray:
    """A tabletop seen from above as a brightness map: straight planks with grain along them."""
    width, height = stage.size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = _grain_phase(stage.look)
    across = xs / (0.16 * stage.unit) + phase[0] % 1
    grain = np.sin(across * 9 + np.sin(ys / stage.unit * 4 + np.floor(across) * 2.1 + phase[0]) * 1.4 + phase[1])
    tone = 1 + 0.05 * np.sin(np.floor(across) * 12.9898 + phase[0])
    gap = np.minimum(across % 1, 1 - across % 1) * 0.16 * stage.unit
    seams = 1 - 0.28 * np.exp(-((gap / 1.2) ** 2))
    shading: np.ndarray = (0.95 + 0.05 * grain) * tone * seams
    return shading


STYLES: dict[str, Style] = {
    # Pure white's shadow is soft and bounded: marketplace main images ask for RGB 255,255,255 around
    # the product, and Amazon's allows a natural shadow on it; `style_for` takes it away where a
    # marketplace does not.
    "white": Style(_white, shadow=0.3),
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


def style_for(key: str, white_shadow: bool = True) -> Style:
    """The style a preset paints with; pure white without its soft shadow when `white_shadow` is off."""
    style = STYLES[key]
    return style if white_shadow or key != "white" else replace(style, shadow=0.0)
