"""The detail pass: a generated frame enlarged, then repainted at low strength in tiles of the generation size.

A 1 MP generation stretched to a 4096 px canvas is soft beside the product's own pixels. Where the
canvas is larger than the generation, the frame is enlarged DETAIL_SCALE times (cubic) and each of
its 2×2 overlapping tiles, each exactly the generation size (so torch.compile's graphs serve), is
repainted at DETAIL_STRENGTH under the same repaint mask: the model adds the detail a native-size
image has, the composition stays. Tiles the mask does not reach are not run; the seams are blended
over the overlap. The product is never repainted here either: the plan's finish pastes it back.
The result still meets canvases larger than DETAIL_SCALE × the generation with a cubic resize.
"""

from collections.abc import Callable

import numpy as np
from PIL import Image

from shopshot.pipeline.diffusion.masks import upscale
from shopshot.pipeline.diffusion.modes import Mode, retouched

# The enlarged frame is this many tiles wide and high (2×2 tiles overlapping a quarter of a tile).
DETAIL_SCALE = 1.75
# Low enough to keep the first pass's composition, high enough to add texture at the new scale.
DETAIL_STRENGTH = 0.3
# Below this enlargement the cubic resize loses little; the pass is skipped.
DETAIL_FROM = 1.25

Tile = tuple[int, int, int, int]  # x0, y0, x1, y1 in the enlarged frame


def wanted(canvas: tuple[int, int], inner: tuple[int, int]) -> bool:
    """Whether a canvas of this size, made from `inner` generated pixels, is enlarged enough to need the pass."""
    return max(canvas[0] / inner[0], canvas[1] / inner[1]) >= DETAIL_FROM


def detail_mode(mode: Mode) -> Mode:
    """The mode's guidance at DETAIL_STRENGTH (`modes.retouched`)."""
    return retouched(mode, DETAIL_STRENGTH, "detail")


def enlarged(frame: tuple[int, int]) -> tuple[int, int]:
    """The size of the enlarged frame."""
    return round(frame[0] * DETAIL_SCALE), round(frame[1] * DETAIL_SCALE)


def tiles(frame: tuple[int, int]) -> list[Tile]:
    """The 2×2 tiles of the frame's size covering the enlarged frame."""
    width, height = enlarged(frame)
    return [(x0, y0, x0 + frame[0], y0 + frame[1]) for y0 in (0, height - frame[1]) for x0 in (0, width - frame[0])]


def refine(
    pixels: np.ndarray,
    mask: Image.Image,
    run_tile: Callable[[int, Image.Image, Image.Image], np.ndarray],
    on_tile: Callable[[float], None] = lambda fraction: None,
) -> np.ndarray:
    """`pixels` (float RGB at generation size, repainted where `mask` is white) enlarged and repainted tile by tile.

    `run_tile(index, image, mask)` repaints one tile and returns it as float RGB; `on_tile` hears the share done.
    """
    frame = mask.size
    size = enlarged(frame)
    image = upscale(pixels, size)
    repaint = mask.resize(size, Image.Resampling.NEAREST)
    total = np.zeros(image.shape, np.float32)
    weights = np.zeros(image.shape[:2], np.float32)
    ramp = _ramp(frame, size)
    boxes = tiles(frame)
    for index, box in enumerate(boxes):
        x0, y0, x1, y1 = box
        tile_mask = repaint.crop(box)
        tile = image[y0:y1, x0:x1]
        if np.asarray(tile_mask).any():
            tile = run_tile(index, Image.fromarray(np.clip(np.rint(tile), 0, 255).astype(np.uint8)), tile_mask)
        total[y0:y1, x0:x1] += tile * ramp[..., None]
        weights[y0:y1, x0:x1] += ramp
        on_tile((index + 1) / len(boxes))
    return total / weights[..., None]


def _ramp(frame: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """A tile's blending weight: 1 inside, falling linearly over the overlap's width at each edge, never 0
    (where one tile alone covers a pixel, dividing by the summed weights gives that tile in full)."""

    def axis(tile: int, whole: int) -> np.ndarray:
        overlap = max(1, 2 * tile - whole)
        position = np.arange(tile, dtype=np.float32) + 0.5
        weights: np.ndarray = np.minimum(1.0, np.minimum(position, tile - position) / overlap)
        return weights

    return np.outer(axis(frame[1], size[1]), axis(frame[0], size[0]))
