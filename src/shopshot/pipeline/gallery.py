"""The preset gallery: one picture of numbered thumbnails, the sample product on each backdrop."""

import io
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from shopshot.pipeline.backdrops import STYLES
from shopshot.pipeline.cutout import Cutout, cut_out
from shopshot.pipeline.layout import ratio
from shopshot.pipeline.presets import backdrop
from shopshot.pipeline.studio import render_variant

_BACKGROUND = (244, 242, 239)
_BADGE = (28, 28, 30)


def sample_photo() -> bytes:
    """The bundled sample product photo (a mug on an off-white sweep), as JPEG bytes."""
    return resources.files("shopshot").joinpath("assets/sample-product.jpg").read_bytes()


def sample_product() -> Image.Image:
    """The bundled sample product photo, as RGB."""
    return Image.open(io.BytesIO(sample_photo())).convert("RGB")


def render_gallery(keys: Sequence[str], first_number: int = 1, thumb: int = 320, columns: int = 3) -> Image.Image:
    """Numbered thumbnails of these presets, `columns` to a row, numbered from `first_number`."""
    presets = [backdrop(key) for key in keys]
    gap = max(4, thumb // 20)
    rows = -(-len(presets) // columns)
    sheet = Image.new("RGB", (columns * (thumb + gap) + gap, rows * (thumb + gap) + gap), _BACKGROUND)
    for index, preset in enumerate(presets):
        tile = _thumbnail(preset.key, thumb)
        _badge(tile, first_number + index)
        sheet.paste(tile, (gap + (index % columns) * (thumb + gap), gap + (index // columns) * (thumb + gap)))
    return sheet


def _thumbnail(key: str, thumb: int) -> Image.Image:
    pixels, cutout = _prepared_sample(thumb)
    rendered = render_variant(pixels, cutout, STYLES[key], ratio("1:1"), seed=0)
    return rendered.image.resize((thumb, thumb), Image.Resampling.LANCZOS)


@lru_cache(maxsize=4)
def _prepared_sample(thumb: int) -> tuple[np.ndarray, Cutout]:
    """The sample shrunk so its render is about twice the thumbnail, and its cut-out (done once)."""
    sample = sample_product()
    scale = min(1.0, 2 * thumb / max(sample.size))
    small = sample.resize((round(sample.width * scale), round(sample.height * scale)), Image.Resampling.LANCZOS)
    return np.asarray(small), cut_out(small)


def _badge(tile: Image.Image, number: int) -> None:
    """A big, round number badge in the top-left corner, readable on light and dark backdrops."""
    size = max(24, tile.width // 5)
    margin = max(4, tile.width // 28)
    draw = ImageDraw.Draw(tile)
    box = (margin, margin, margin + size, margin + size)
    draw.ellipse(box, fill=_BADGE, outline=(255, 255, 255), width=max(2, size // 18))
    font = ImageFont.load_default(size=int(size * (0.62 if number < 10 else 0.5)))
    draw.text((margin + size / 2, margin + size / 2), str(number), font=font, fill=(255, 255, 255), anchor="mm")
