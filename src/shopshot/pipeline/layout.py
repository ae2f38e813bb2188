"""Output aspect ratios and where the product goes on the canvas.

The product is never resampled: the canvas is sized around the product's bounding box at scale 1,
so the aspect ratio, the margins and the long-side clamp decide the canvas, not the product.
"""

import math
from dataclasses import dataclass

from shopshot.errors import InvalidOption, N_


@dataclass(frozen=True)
class Ratio:
    key: str
    width: int
    height: int
    use: str


RATIOS: tuple[Ratio, ...] = (
    Ratio("1:1", 1, 1, N_("marketplace")),
    Ratio("3:4", 3, 4, N_("catalog")),
    Ratio("4:5", 4, 5, N_("feed")),
    Ratio("9:16", 9, 16, N_("stories")),
)
VARIANT_CHOICES: tuple[int, ...] = (1, 2, 4)

# Past this the canvas only grows as far as the product itself needs (it is never scaled down).
MAX_LONG_SIDE = 4096
# The product's larger relative extent fills this share of the canvas; MAX_FILL is the fallback
# when the ideal canvas would pass MAX_LONG_SIDE.
FILL = 0.76
MAX_FILL = 0.94

_BY_KEY = {item.key: item for item in RATIOS}


def ratio(key: str) -> Ratio:
    """Return the ratio with this key, or raise InvalidOption."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise InvalidOption(value=key) from None


@dataclass(frozen=True)
class Placement:
    """A canvas size and the top-left corner of the product's box on it."""

    size: tuple[int, int]
    origin: tuple[int, int]


def place_product(box_size: tuple[int, int], shape: Ratio, floor: float = 0.12, fill: float = FILL, overhead: bool = False) -> Placement:
    """Size a canvas of this ratio around a product box and put the product on it, slightly low
    (standing on a floor) or, seen from above, in the middle."""
    width, height = _canvas_size(box_size, shape.width / shape.height, fill)
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
