"""Draw the bundled sample product photo: a speckled teal stoneware mug on an off-white sweep.

Run `.venv/bin/python bench/make_sample.py` to rewrite src/shopshot/assets/sample-product.jpg.
Everything is procedural and seeded, so the file is the same on every run with the same libraries.
"""

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

OUTPUT = Path(__file__).resolve().parents[1] / "src/shopshot/assets/sample-product.jpg"
SIZE = (1200, 1500)
SUPERSAMPLE = 2
GLAZE = np.float32([28, 104, 116])
CLAY = np.float32([212, 192, 164])
BACKDROP = np.float32([238, 234, 227])


def main() -> None:
    """Render the mug and save it as a quality-90 JPEG."""
    rng = np.random.default_rng(7)
    width, height = SIZE[0] * SUPERSAMPLE, SIZE[1] * SUPERSAMPLE
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    mug = Mug(cx=0.46 * width, top=0.36 * height, bottom=0.76 * height, half=0.23 * width)
    pixels = backdrop(xs, ys, mug)
    pixels = mug.paint(pixels, xs, ys, rng)
    pixels += rng.normal(0, 1.2, pixels.shape).astype(np.float32)
    small = cv2.resize(np.clip(pixels, 0, 255).astype(np.uint8), SIZE, interpolation=cv2.INTER_AREA)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(small).save(OUTPUT, "JPEG", quality=90)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size // 1024} KiB)")


def coverage(distance: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage from a signed distance in pixels (positive inside)."""
    return np.clip(distance + 0.5, 0, 1)


def backdrop(xs: np.ndarray, ys: np.ndarray, mug: "Mug") -> np.ndarray:
    """Off-white paper: darker toward the top, a light fall-off to the corners, a soft shadow."""
    height, width = xs.shape
    u, v = xs / width - 0.5, ys / height - 0.5
    light = 0.94 + 0.07 * (v + 0.5) - 0.10 * (u**2 + (v - 0.1) ** 2)
    pixels = BACKDROP * light[..., None]
    contact = ((xs - mug.cx) / (mug.half * 1.05)) ** 2 + ((ys - mug.bottom) / (mug.half * 0.09)) ** 2
    cast = ((xs - mug.cx - mug.half * 0.35) / (mug.half * 1.5)) ** 2 + (
        (ys - mug.bottom + mug.half * 0.05) / (mug.half * 0.22)
    ) ** 2
    shade = 1 - 0.5 * np.exp(-contact * 1.5) - 0.2 * np.exp(-cast * 1.2)
    return pixels * shade[..., None]


class Mug:
    """A cylinder with a rim, an unglazed foot, a printed mark and a loop handle on the right."""

    def __init__(self, cx: float, top: float, bottom: float, half: float) -> None:
        self.cx, self.top, self.bottom, self.half = cx, top, bottom, half
        self.depth = 0.2 * half

    def paint(self, pixels: np.ndarray, xs: np.ndarray, ys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw handle, body, mark and opening over the backdrop."""
        pixels = self._handle(pixels, xs, ys)
        across = np.clip((xs - self.cx) / self.half, -1, 1)
        front = np.sqrt(1 - across**2)
        body = (
            coverage(self.half - np.abs(xs - self.cx))
            * coverage(ys - self.top)
            * coverage(self.bottom + self.depth * front - ys)
        )
        surface = self._glaze(across, front, ys, rng)
        surface = self._mark(surface, across, ys)
        pixels = pixels + (surface - pixels) * body[..., None]
        return self._opening(pixels, xs, ys)

    def _glaze(self, across: np.ndarray, front: np.ndarray, ys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        diffuse = np.clip(front * 0.8 - across * 0.45, 0, 1)
        highlight = np.exp(-(((across + 0.5) / 0.06) ** 2)) * 0.55 + np.exp(-(((across - 0.72) / 0.05) ** 2)) * 0.12
        colour = GLAZE * (0.42 + 0.75 * diffuse)[..., None] + 255 * highlight[..., None]
        foot = ys > self.bottom + self.depth * front - 0.05 * (self.bottom - self.top)
        colour = np.where(foot[..., None], CLAY * (0.55 + 0.5 * diffuse)[..., None], colour)
        speckles = cv2.GaussianBlur((rng.random(ys.shape) < 0.0016).astype(np.float32), (0, 0), 1.4) * 6
        return colour * (1 - np.clip(speckles, 0, 0.6))[..., None]

    def _mark(self, surface: np.ndarray, across: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """A cream printed mark, wrapped around the cylinder."""
        height, width = ys.shape
        flat = Image.new("L", (width, height), 0)
        draw = ImageDraw.Draw(flat)
        font = ImageFont.load_default(size=int(self.half * 0.3))
        middle_y = (self.top + self.bottom) / 2
        draw.text((width / 2, middle_y + self.half * 0.22), "NORD", font=font, fill=255, anchor="mm")
        radius = self.half * 0.26
        draw.ellipse(
            (width / 2 - radius, middle_y - radius * 1.6, width / 2 + radius, middle_y - radius * 0.6 + radius),
            outline=255,
            width=int(radius * 0.14),
        )
        draw.line(
            (
                width / 2 - radius * 0.7,
                middle_y - radius * 0.2,
                width / 2 - radius * 0.1,
                middle_y - radius * 0.9,
                width / 2 + radius * 0.25,
                middle_y - radius * 0.45,
                width / 2 + radius * 0.7,
                middle_y - radius * 0.2,
            ),
            fill=255,
            width=int(radius * 0.12),
            joint="curve",
        )
        # Arc length on the cylinder to flat x: the print stretches as the surface turns away.
        map_x = (width / 2 + np.arcsin(across) * self.half).astype(np.float32)
        ink = cv2.remap(np.asarray(flat, np.float32) / 255, map_x, ys, cv2.INTER_LINEAR)
        ink *= np.clip(np.sqrt(1 - across**2) * 2, 0, 1)
        cream = np.float32([236, 226, 204]) * (0.6 + 0.4 * np.sqrt(1 - across**2))[..., None]
        return surface + (cream - surface) * (ink * 0.92)[..., None]

    def _opening(self, pixels: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        outer = ((xs - self.cx) / self.half) ** 2 + ((ys - self.top) / self.depth) ** 2
        inner_half, inner_depth = self.half * 0.94, self.depth * 0.9
        inner = ((xs - self.cx) / inner_half) ** 2 + ((ys - self.top - self.depth * 0.03) / inner_depth) ** 2
        rim = coverage((1 - np.sqrt(outer)) * self.depth)
        hole = coverage((1 - np.sqrt(inner)) * inner_depth)
        lip = GLAZE * 1.2 + 30
        pixels = pixels + (lip - pixels) * rim[..., None]
        depth_shade = np.clip((ys - self.top + inner_depth) / (2 * inner_depth), 0, 1)
        interior = GLAZE * (0.35 + 0.55 * depth_shade)[..., None]
        return pixels + (interior - pixels) * hole[..., None]

    def _handle(self, pixels: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        centre_x, centre_y = self.cx + self.half * 0.98, self.top + (self.bottom - self.top) * 0.45
        outer_x, outer_y = self.half * 0.5, (self.bottom - self.top) * 0.3
        radius = np.sqrt(((xs - centre_x) / outer_x) ** 2 + ((ys - centre_y) / outer_y) ** 2)
        thickness = 0.3
        ring = coverage((1 - radius) * outer_x * 0.5) * coverage((radius - (1 - thickness)) * outer_x * 0.5)
        ring *= coverage(xs - centre_x + outer_x * 0.1)
        across = np.clip((radius - (1 - thickness / 2)) / (thickness / 2), -1, 1)
        light = np.clip(np.sqrt(1 - across**2) * 0.8 - across * 0.3 - (ys - centre_y) / outer_y * 0.15, 0, 1)
        colour = (
            GLAZE * (0.4 + 0.7 * light)[..., None] + 160 * np.exp(-(((across + 0.35) / 0.15) ** 2))[..., None] * 0.5
        )
        return pixels + (colour - pixels) * ring[..., None]


if __name__ == "__main__":
    main()
