"""The preset galleries: one picture of numbered thumbnails, the seller's product (or the bundled
sample) on each backdrop, or a stylised portrait for each fashion-model preset (drawn, no model
weights, no words); and the picture of what a photo's cut-out keeps."""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from shopshot.pipeline import compositing
from shopshot.pipeline.backdrops import STYLES
from shopshot.pipeline.cutout import Cutout
from shopshot.pipeline.layout import ratio
from shopshot.pipeline.matte import NormBox, product_cutout
from shopshot.pipeline.people import ModelPreset, model_preset
from shopshot.pipeline.presets import backdrop
from shopshot.pipeline.studio import render_variant

_BACKGROUND = (244, 242, 239)
_BADGE = (28, 28, 30)
_PORTRAIT_BACKGROUND = (226, 221, 214)
_GARMENT = (74, 82, 96)
THUMB = 320
_CHECKER = (255, 222)  # the two greys of the checkerboard behind what a cut-out keeps
# A phone shows a photo about 250-330 dp wide: two tiles a row keep each one about 120-160 dp,
# where three made them about 80-110 dp, too small to tell the backdrops apart.
PHONE_COLUMNS = 2


def sample_photo() -> bytes:
    """The bundled sample product photo (a mug on an off-white sweep), as JPEG bytes."""
    return resources.files("shopshot").joinpath("assets/sample-product.jpg").read_bytes()


def sample_product() -> Image.Image:
    """The bundled sample product photo, as RGB."""
    return Image.open(io.BytesIO(sample_photo())).convert("RGB")


@dataclass(frozen=True)
class Product:
    """A product photo shrunk for previews (its render about twice a thumbnail) and its cut-out."""

    pixels: np.ndarray
    cutout: Cutout


def prepare_product(image: Image.Image, thumb: int = THUMB, keep: tuple[NormBox, ...] = ()) -> Product:
    """Shrink an RGB photo for previews and cut its product out (only the candidates in `keep`, when given); raises NoProductFound."""
    scale = min(1.0, 2 * thumb / max(image.size))
    small = (
        image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
        if scale < 1
        else image
    )
    return Product(np.asarray(small), product_cutout(small, keep))


def render_gallery(
    keys: Sequence[str], first_number: int = 1, thumb: int = THUMB, columns: int = PHONE_COLUMNS
) -> Image.Image:
    """Numbered thumbnails of these presets with the sample product on each, `columns` to a row, numbered from `first_number`."""
    return render_product_gallery(_prepared_sample(thumb), keys, first_number, thumb, columns)


def render_product_gallery(
    product: Product, keys: Sequence[str], first_number: int = 1, thumb: int = THUMB, columns: int = PHONE_COLUMNS
) -> Image.Image:
    """Numbered thumbnails of these presets with this product on each, each rendered as a result is."""
    presets = [backdrop(key) for key in keys]
    return _sheet([_thumbnail(product, preset.key, thumb) for preset in presets], first_number, thumb, columns)


def kept_preview(product: Product, side: int = THUMB) -> Image.Image:
    """What the cut-out keeps of the photo, on a checkerboard, at most `side` pixels long."""
    height, width = product.pixels.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    squares = max(4, max(height, width) // 40)
    checker = np.where((ys // squares + xs // squares) % 2 == 0, *_CHECKER).astype(np.float32)
    canvas = np.repeat(checker[..., None], 3, axis=2)
    # Pasted the way a result is: edge pixels lose the photo's own backdrop.
    kept, _ = compositing.paste_product(canvas, product.pixels, product.cutout, product.cutout.box[:2])
    preview = Image.fromarray(kept)
    preview.thumbnail((side, side), Image.Resampling.LANCZOS)
    return preview


def render_model_gallery(
    keys: Sequence[str], first_number: int = 1, thumb: int = THUMB, columns: int = PHONE_COLUMNS
) -> Image.Image:
    """Numbered portrait tiles of these model presets, laid out like `render_gallery`."""
    presets = [model_preset(key) for key in keys]
    return _sheet([_portrait(preset, thumb) for preset in presets], first_number, thumb, columns)


def _sheet(tiles: list[Image.Image], first_number: int, thumb: int, columns: int) -> Image.Image:
    """Badge the square tiles with numbers from `first_number` and lay them out in rows."""
    gap = max(4, thumb // 20)
    rows = -(-len(tiles) // columns)
    sheet = Image.new("RGB", (columns * (thumb + gap) + gap, rows * (thumb + gap) + gap), _BACKGROUND)
    for index, tile in enumerate(tiles):
        _badge(tile, first_number + index)
        sheet.paste(tile, (gap + (index % columns) * (thumb + gap), gap + (index // columns) * (thumb + gap)))
    return sheet


def _thumbnail(product: Product, key: str, thumb: int) -> Image.Image:
    # Seed 0 paints look 0: the look of every job's first image (its seeds start on a multiple of LOOK_CYCLE).
    rendered = render_variant(product.pixels, product.cutout, STYLES[key], ratio("1:1"), seed=0)
    return rendered.image.resize((thumb, thumb), Image.Resampling.LANCZOS)


@lru_cache(maxsize=4)
def _prepared_sample(thumb: int) -> Product:
    """The sample, prepared once."""
    return prepare_product(sample_product(), thumb)


def badge_box(side: int) -> tuple[int, int, int, int]:
    """Where a tile's number badge sits: tucked into the top-right corner, clear of the centred product."""
    # The top-left one put the badge over the sample mug's rim; this one is clear of the product on every backdrop.
    size = max(24, side // 6)
    margin = max(3, side // 40)
    return side - margin - size, margin, side - margin, margin + size


def _badge(tile: Image.Image, number: int) -> None:
    """A big, round number badge, readable on light and dark backdrops."""
    box = badge_box(tile.width)
    size = box[2] - box[0]
    draw = ImageDraw.Draw(tile)
    draw.ellipse(box, fill=_BADGE, outline=(255, 255, 255), width=max(2, size // 18))
    font = ImageFont.load_default(size=int(size * (0.62 if number < 10 else 0.5)))
    draw.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), str(number), font=font, fill=(255, 255, 255), anchor="mm")


def _portrait(preset: ModelPreset, thumb: int) -> Image.Image:
    """A head-and-shoulders figure in the preset's skin tone and hair, drawn at 4x and scaled down."""
    side = 4 * thumb
    tile = Image.new("RGB", (side, side), _PORTRAIT_BACKGROUND)
    draw, unit = ImageDraw.Draw(tile), side / 100
    draw.rounded_rectangle(_box(unit, 18, 74, 82, 112), radius=16 * unit, fill=_GARMENT)
    _hair_behind(draw, unit, preset)
    draw.rectangle(_box(unit, 44, 56, 56, 76), fill=preset.skin)
    draw.ellipse(_box(unit, 34, 24, 66, 64), fill=preset.skin)
    cap_bottom = 46 if preset.hair_style == "cropped" else 58
    draw.chord(_box(unit, 33, 22, 67, cap_bottom), 180, 360, fill=preset.hair)
    return tile.resize((thumb, thumb), Image.Resampling.LANCZOS)


def _box(unit: float, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    """A box given in percent of the tile, in pixels."""
    return x0 * unit, y0 * unit, x1 * unit, y1 * unit


def _hair_behind(draw: ImageDraw.ImageDraw, unit: float, preset: ModelPreset) -> None:
    """Hair that falls behind the head: long or wavy to the shoulders, curly volume, a bob, a bun."""
    style, hair = preset.hair_style, preset.hair
    if style in ("long", "wavy"):
        draw.rounded_rectangle(_box(unit, 30, 26, 70, 84), radius=14 * unit, fill=hair)
    elif style == "curly":
        draw.ellipse(_box(unit, 22, 12, 78, 66), fill=hair)
    elif style == "bob":
        draw.rounded_rectangle(_box(unit, 30, 22, 70, 62), radius=12 * unit, fill=hair)
    elif style == "bun":
        draw.ellipse(_box(unit, 42, 12, 58, 28), fill=hair)
