"""Drawn photos of see-through products (and look-alikes that are not) with their true lens masks,
and how a render of them is measured."""

import cv2
import numpy as np
from PIL import Image

from shopshot.pipeline import compositing

_SUPERSAMPLE = 4
FRAME = (28, 26, 30)


def backdrop(size: tuple[int, int]) -> np.ndarray:
    """A light, slightly warm sweep, darker toward the bottom and the sides, as a lit backdrop is."""
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    shade = 1 - 0.08 * ys / height - 0.12 * ((xs - width / 2) / width) ** 2
    return np.float32([226, 222, 214]) * shade[..., None]


def _coverage(size: tuple[int, int], draw) -> np.ndarray:
    """A shape drawn by `draw(canvas, scale)` on a supersampled canvas, as anti-aliased coverage 0..1."""
    width, height = size
    canvas = np.zeros((height * _SUPERSAMPLE, width * _SUPERSAMPLE), np.uint8)
    draw(canvas, _SUPERSAMPLE)
    return cv2.resize(canvas, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def _photo(pixels: np.ndarray, seed: int) -> Image.Image:
    pixels = pixels + np.random.default_rng(seed).normal(0, 1.5, pixels.shape)
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))


def _layer(pixels: np.ndarray, coverage: np.ndarray, colour) -> np.ndarray:
    return pixels * (1 - coverage[..., None]) + np.asarray(colour, np.float32) * coverage[..., None]


def sunglasses(
    size: tuple[int, int] = (600, 400), transmission: float = 0.45, seed: int = 0
) -> tuple[Image.Image, np.ndarray]:
    """A black frame with two neutral grey lenses that pass `transmission` of the backdrop; the lenses' coverage."""
    width, height = size

    def lenses(grow: int):
        def draw(canvas, s):
            for cx in (0.3 * width, 0.7 * width):
                cv2.ellipse(
                    canvas,
                    (round(cx * s), round(0.5 * height * s)),
                    (round((0.17 * width + grow) * s), round((0.2 * height + grow) * s)),
                    0,
                    0,
                    360,
                    255,
                    -1,
                )
            if grow:  # the bridge
                cv2.rectangle(
                    canvas,
                    (round(0.45 * width * s), round(0.38 * height * s)),
                    (round(0.55 * width * s), round(0.42 * height * s)),
                    255,
                    -1,
                )

        return draw

    frame, lens = _coverage(size, lenses(0.02 * width)), _coverage(size, lenses(0))
    behind = backdrop(size)
    pixels = _layer(behind, frame, FRAME)
    pixels = pixels * (1 - lens[..., None]) + transmission * behind * lens[..., None]
    return _photo(pixels, seed), lens


def bottle(
    size: tuple[int, int] = (400, 600), transmission: float = 0.8, seed: int = 1
) -> tuple[Image.Image, np.ndarray]:
    """A clear glass bottle: a dark refracting rim, a red cap, a clear body with a white highlight; the body's coverage."""
    width, height = size
    left, right, top, bottom, rim = 0.3 * width, 0.7 * width, 0.25 * height, 0.85 * height, 0.02 * width

    def body(inset: float):
        def draw(canvas, s):
            cv2.rectangle(
                canvas,
                (round((left + inset) * s), round((top + inset) * s)),
                (round((right - inset) * s), round((bottom - inset) * s)),
                255,
                -1,
            )

        return draw

    def cap(canvas, s):
        cv2.rectangle(
            canvas,
            (round(0.43 * width * s), round(0.15 * height * s)),
            (round(0.57 * width * s), round(top * s)),
            255,
            -1,
        )

    def highlight(canvas, s):
        cv2.rectangle(
            canvas,
            (round(0.37 * width * s), round(0.35 * height * s)),
            (round(0.4 * width * s), round(0.75 * height * s)),
            255,
            -1,
        )

    outline, glass = _coverage(size, body(0)), _coverage(size, body(rim))
    behind = backdrop(size)
    pixels = _layer(_layer(behind, outline, (62, 78, 70)), _coverage(size, cap), (170, 40, 45))
    seen = (
        transmission * behind + 60 * _coverage(size, highlight)[..., None]
    )  # the glass lets the backdrop through and reflects
    pixels = pixels * (1 - glass[..., None]) + seen * glass[..., None]
    return _photo(pixels, seed), glass


def grey_box(size: tuple[int, int] = (500, 500), seed: int = 2) -> Image.Image:
    """An opaque grey box lit like its backdrop (its colour a constant share of the backdrop's): no rim, no lens."""
    width, height = size

    def draw(canvas, s):
        cv2.rectangle(
            canvas,
            (round(0.3 * width * s), round(0.3 * height * s)),
            (round(0.7 * width * s), round(0.75 * height * s)),
            255,
            -1,
        )

    box, behind = _coverage(size, draw), backdrop(size)
    return _photo(behind * (1 - 0.4 * box[..., None]), seed)


def framed_panel(size: tuple[int, int] = (500, 500), seed: int = 3) -> tuple[Image.Image, np.ndarray]:
    """A flat grey panel in a black frame (a screen, a label): backdrop-like, enclosed, but opaque; the panel's coverage."""
    width, height = size

    def frame(grow: float):
        def draw(canvas, s):
            cv2.rectangle(
                canvas,
                (round((0.25 * width - grow) * s), round((0.2 * height - grow) * s)),
                (round((0.75 * width + grow) * s), round((0.8 * height + grow) * s)),
                255,
                -1,
            )

        return draw

    outer, panel = _coverage(size, frame(0.02 * width)), _coverage(size, frame(0))
    pixels = _layer(_layer(backdrop(size), outer, FRAME), panel, (120, 118, 114))
    return _photo(pixels, seed), panel


class Pastes:
    """Records what each paste_product call composited onto: the backdrop N, the product's pixels and cut-out."""

    def __init__(self, monkeypatch):
        self.calls = []
        real = compositing.paste_product

        def record(pixels, image, cutout, origin):
            self.calls.append((pixels.copy(), image, cutout, origin))
            return real(pixels, image, cutout, origin)

        monkeypatch.setattr(compositing, "paste_product", record)


def lens_on_canvas(lens: np.ndarray, photo_box, cutout, origin, canvas_shape, margin: int = 3) -> np.ndarray:
    """The true lens pixels (clear of their rim) on the canvas, for a cut-out of `photo_box` placed at `origin`."""
    x0, y0, x1, y1 = photo_box
    rows, cols = cutout.alpha.shape
    inside = cv2.resize(lens[y0:y1, x0:x1], (cols, rows), interpolation=cv2.INTER_AREA) >= 0.999
    inside = cv2.erode(inside.astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)) > 0
    placed = np.zeros(canvas_shape, bool)
    placed[origin[1] : origin[1] + rows, origin[0] : origin[0] + cols] = inside
    return placed


def see_through_share(output, backdrop, old, transmission) -> float:
    """How far the lens went from the old photo's colour to the physical one, t·N: 0 = none, 1 = all."""
    expected = transmission * backdrop
    return 1 - np.abs(output - expected).mean() / np.abs(old - expected).mean()
