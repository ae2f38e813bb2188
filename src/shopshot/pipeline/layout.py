"""Output aspect ratios, their pixel sizes, and where the product goes on the canvas.

Each format has a target size. A product whose own pixels fill the target (or nearly) is placed at
scale 1, and a larger one gets a larger canvas at scale 1, up to MAX_PIXELS; a product too small for
the target is enlarged to fill it, and one past MAX_PIXELS is reduced. Resampling is the caller's
(Lanczos, in `pipeline.resampling`): this module only decides the scale and the canvas.
"""

import math
from dataclasses import dataclass

from shopshot.errors import N_, InvalidOption

# A larger product keeps scale 1 on a larger canvas up to this many pixels (Shopify's 5000×5000;
# the worker's memory is measured for canvases of about 40 MP, Telegram takes files up to 50 MB);
# past it the product is reduced. Inputs are at most 40 MP, so only a large product in a tall
# format gets there.
MAX_PIXELS = 25_000_000


@dataclass(frozen=True)
class Ratio:
    key: str
    width: int
    height: int
    use: str
    target: tuple[int, int]  # the output's size in pixels, unless the product's own pixels need more
    max_pixels: int = MAX_PIXELS  # a marketplace pack lowers it to the marketplace's largest size


# Targets, from the platforms' own figures as their sellers' guides quote them:
# - 1:1 marketplace: Amazon enables zoom from 1000 px on the longest side, recommends 1600 px or
#   more and takes up to 10,000 px; Shopify shows 2048×2048 best (up to 5000×5000, 25 MP).
# - 3:4 catalog: Wildberries asks for 3:4 at 900×1200 at least (8000 px at most); Ozon shows
#   3:4 uncropped. 1500×2000 keeps Amazon's zoom too.
# - 4:5 feed: Instagram's portrait post, 1080×1350; it scales every feed photo to 1080 px wide.
# - 9:16 stories: Instagram Stories and Reels, TikTok photo mode, 1080×1920.
RATIOS: tuple[Ratio, ...] = (
    Ratio("1:1", 1, 1, N_("marketplace"), (2000, 2000)),
    Ratio("3:4", 3, 4, N_("catalog"), (1500, 2000)),
    Ratio("4:5", 4, 5, N_("feed"), (1080, 1350)),
    Ratio("9:16", 9, 16, N_("stories"), (1080, 1920)),
)
VARIANT_CHOICES: tuple[int, ...] = (1, 2, 4)

# Past this the canvas only grows as far as the product itself needs (up to MAX_PIXELS).
MAX_LONG_SIDE = 4096
# The product's larger relative extent fills this share of the canvas; MAX_FILL is the fallback
# when the ideal canvas would pass MAX_LONG_SIDE.
FILL = 0.76
MAX_FILL = 0.94
# A product that would need at most this much enlarging to fill the target keeps its own pixels
# (scale 1) and sits a little smaller on the target canvas: 10 % more pixels are not worth the
# byte-identical copy of the seller's.
KEEP_PIXELS_UP_TO = 1.1
# Before the cut-out has run (the summary before Confirm), the product is taken to span this share
# of the photo's width and height: the margin most product photos leave around it.
PRODUCT_SHARE = 0.7

_BY_KEY = {item.key: item for item in RATIOS}


def ratio(key: str) -> Ratio:
    """Return the ratio with this key, or raise InvalidOption."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise InvalidOption(value=key) from None


@dataclass(frozen=True)
class Fit:
    """How the product goes on the output: its scale (1: the photo's own pixels) and the canvas size."""

    scale: float
    size: tuple[int, int]


def fit(box_size: tuple[int, int], shape: Ratio, fill: float = FILL) -> Fit:
    """The scale and canvas for a product box of this size (at the photo's scale) in this format."""
    box_w, box_h = box_size
    target_w, target_h = shape.target
    enlarge = min(fill * target_w / box_w, fill * target_h / box_h)
    if enlarge > KEEP_PIXELS_UP_TO:
        return Fit(enlarge, shape.target)
    aspect = shape.width / shape.height
    own = _canvas_size(box_size, aspect, fill)
    if own[1] < target_h:
        return Fit(1.0, shape.target)
    if own[0] * own[1] <= shape.max_pixels:
        return Fit(1.0, own)
    scale = math.sqrt(shape.max_pixels / (own[0] * own[1]))
    return Fit(scale, _canvas_size(scaled(box_size, scale), aspect, fill))


def expected_fit(photo_size: tuple[int, int], shape: Ratio, fill: float = FILL) -> Fit:
    """The fit of a product spanning PRODUCT_SHARE of a photo of this size: what the summary can say before the cut-out."""
    width, height = photo_size
    return fit((max(1, round(width * PRODUCT_SHARE)), max(1, round(height * PRODUCT_SHARE))), shape, fill)


def scaled(box_size: tuple[int, int], scale: float) -> tuple[int, int]:
    """A box's size at this scale, in whole pixels."""
    return max(1, round(box_size[0] * scale)), max(1, round(box_size[1] * scale))


@dataclass(frozen=True)
class Placement:
    """A canvas size and the top-left corner of the product's box on it."""

    size: tuple[int, int]
    origin: tuple[int, int]


def place_product(
    box_size: tuple[int, int],
    shape: Ratio,
    floor: float = 0.12,
    fill: float = FILL,
    size: tuple[int, int] | None = None,
    overhead: bool = False,
) -> Placement:
    """Put a product box on a canvas of `size` (else one of this ratio sized around it), slightly low
    (standing on a floor) or, seen from above, in the middle."""
    width, height = size or _canvas_size(box_size, shape.width / shape.height, fill)
    box_w, box_h = box_size
    # Centre a little below the middle, but keep `floor` of the height free under the product;
    # a product too tall for that (a clamped canvas) is simply centred.
    bottom = min(round(0.56 * height + box_h / 2), math.floor(height * (1 - floor)))
    y = bottom - box_h if bottom >= box_h and not overhead else (height - box_h) // 2
    return Placement((width, height), ((width - box_w) // 2, y))


def _canvas_size(box_size: tuple[int, int], aspect: float, fill: float) -> tuple[int, int]:
    """Canvas (width, height) of this aspect holding the box at `fill`, clamped where it can be."""
    box_w, box_h = box_size
    ideal = max(box_h / fill, box_w / (fill * aspect))
    tightest = max(box_h / MAX_FILL, box_w / (MAX_FILL * aspect))
    clamp = MAX_LONG_SIDE / max(1.0, aspect)
    height = max(tightest, min(ideal, clamp))
    width = height * aspect
    return max(box_w + 2, math.ceil(width)), max(box_h + 2, math.ceil(height))
