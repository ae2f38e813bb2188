"""Masks and sizes shared by the tasks.

Two masks around whatever is kept (a product, a garment):
- *protect*: the kept region shrunk a little; in the output these pixels are the input's, byte for byte.
- *generate*: what the model repaints, reaching a thin ring into the kept region, so the new scene
  runs under the kept region's edge and no old background shows through its soft rim.
Generation runs at the model's native size, at one of a fixed set of aspects; masks are feathered only
in the final composite.
"""

import math

import cv2
import numpy as np
from PIL import Image

# Generation aspects (width / height): every canvas ratio the bot offers, either way up, and 2:3 for
# camera photos. Other photos are fitted inside the nearest, unstretched, the margin generated and cut
# away. A fixed set of sizes bounds torch.compile's graphs: it builds one per input size.
ASPECTS = (1.0, 3 / 4, 4 / 3, 4 / 5, 5 / 4, 9 / 16, 16 / 9, 2 / 3)
# The share of the image's long side that the generated ring reaches into the kept region.
RING_SHARE = 0.006


def disk(radius: int) -> np.ndarray:
    """A round structuring element of this radius."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def shrink(mask: np.ndarray, radius: int) -> np.ndarray:
    """The mask eroded by `radius` pixels."""
    return cv2.erode(mask.astype(np.uint8), disk(radius)) > 0 if radius > 0 else mask.astype(bool)


def grow(mask: np.ndarray, radius: int) -> np.ndarray:
    """The mask dilated by `radius` pixels."""
    return cv2.dilate(mask.astype(np.uint8), disk(radius)) > 0 if radius > 0 else mask.astype(bool)


def ring_width(size: tuple[int, int]) -> int:
    """How far (pixels) the generated ring reaches into a kept region on an image of `size`."""
    return max(2, round(RING_SHARE * max(size)))


def snapped_aspect(size: tuple[int, int]) -> float:
    """The one of ASPECTS nearest to an image of `size`'s own."""
    return min(ASPECTS, key=lambda choice: abs(math.log(choice * size[1] / size[0])))


def generation_size(size: tuple[int, int], native: int, align: int) -> tuple[int, int]:
    """(width, height) to generate an image of `size` at: the nearest of ASPECTS, the native pixel count, sides a multiple of `align`."""
    aspect = snapped_aspect(size)
    gen_width = max(align, round(native * math.sqrt(aspect) / align) * align)
    gen_height = max(align, round(native / math.sqrt(aspect) / align) * align)
    return gen_width, gen_height


def generation_sizes(native: int, align: int) -> frozenset[tuple[int, int]]:
    """Every size `generation_size` gives: one per aspect."""
    return frozenset(generation_size((round(1000 * aspect), 1000), native, align) for aspect in ASPECTS)


def fit_box(size: tuple[int, int], frame: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where an image of `size`, scaled without stretching, sits centred in `frame` (x0, y0, x1, y1)."""
    scale = min(frame[0] / size[0], frame[1] / size[1])
    width, height = min(frame[0], max(1, round(size[0] * scale))), min(frame[1], max(1, round(size[1] * scale)))
    x0, y0 = (frame[0] - width) // 2, (frame[1] - height) // 2
    return x0, y0, x0 + width, y0 + height


def pad(
    image: Image.Image, box: tuple[int, int, int, int], frame: tuple[int, int], fill: int | None = None
) -> Image.Image:
    """`image` (the size of `box`) placed at `box` in `frame`: the margin repeats its edge, or is `fill`."""
    x0, y0, x1, y1 = box
    pixels = np.asarray(image)
    border = cv2.BORDER_REPLICATE if fill is None else cv2.BORDER_CONSTANT
    padded = cv2.copyMakeBorder(pixels, y0, frame[1] - y1, x0, frame[0] - x1, border, value=fill or 0)
    return Image.fromarray(padded, image.mode)


def framed(
    image: Image.Image, generate: np.ndarray, frame: tuple[int, int]
) -> tuple[Image.Image, Image.Image, tuple[int, int, int, int]]:
    """A full-size image and its generate mask fitted unstretched into a generation `frame`: (image, repaint
    mask, where the image lies in the frame); the margin is generated (and later cut away)."""
    box = fit_box(image.size, frame)
    inner = (box[2] - box[0], box[3] - box[1])
    fitted = pad(image.resize(inner, Image.Resampling.LANCZOS), box, frame)
    return fitted, pad(mask_at(generate, inner), box, frame, fill=255), box


def mask_at(mask: np.ndarray, size: tuple[int, int]) -> Image.Image:
    """A generate mask resized for generation: any pixel touching the full-size mask is repainted."""
    coverage = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return Image.fromarray(np.where(coverage > 0.01, 255, 0).astype(np.uint8), "L")


def upscale(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A generated float image (0..255) brought to the full `size` for compositing."""
    return np.clip(cv2.resize(pixels, size, interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.float32)


def resized(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A float image (0..255) brought to `size`: cubic when enlarged, area-averaged when made smaller (no aliasing)."""
    smaller = size[0] * size[1] < pixels.shape[0] * pixels.shape[1]
    return (
        upscale(pixels, size)
        if not smaller
        else cv2.resize(pixels, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    )


def feather(mask: np.ndarray, sigma: float) -> np.ndarray:
    """A soft 0..1 version of a boolean mask, for the final composite only."""
    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), max(sigma, 0.5))


def blend_generated(original: np.ndarray, generated: np.ndarray, generate: np.ndarray) -> np.ndarray:
    """The generated region blended into the original (float32): the scene the kept region is pasted onto."""
    repaint = feather(generate, max(1.0, 0.5 * ring_width(original.shape[1::-1])))[..., None]
    blended: np.ndarray = original * (1 - repaint) + generated * repaint
    return blended
