"""Which way the camera looked at the product: from the front, at a product standing on a floor,
or from above, at a product lying flat (a flat lay).

A photo reads as a flat lay when all three hold:
1. the cut-out keeps clear of the frame's bottom edge (a product cut off there stands before the camera);
2. the original background has no horizon: the fitted background surface's lightness differs by
   less than HORIZON_L (CIE L*) between the frame's top and bottom rows, where a sweep or a wall
   and floor always shade from one tone to the other;
3. there is no contact shadow: in a ring of background hugging the silhouette, the darker tenth
   round the product's lower third is darkened (against the background model) by less than
   CONTACT_L more than the darker tenth round its upper third. A product standing on a floor
   darkens the floor at and beside its base, not the wall behind its top; one lying flat casts its
   shadow all round it.
The thresholds separate, with a margin of more than 1 L* either side, the bundled sample and the
synthetic photos (`fixtures/synthetic.py`: `synthetic_photo`: upright with a contact shadow) from the synthetic flat lays
(`synthetic_flat_lay`: a drop shadow all round, or none).
An upright product shot on a uniform backdrop with no shadow at all passes all three: with nothing
in the photo to tell, it is laid flat, which reads as a product lying down rather than floating.
"""

import cv2
import numpy as np

from shopshot.pipeline.cutout import Cutout

HORIZON_L = 6.0
CONTACT_L = 7.5
# The gap under the product, as a share of the frame's height, below which it counts as cut off.
_CLEARANCE = 0.02
# The ring round the product is this share of its larger extent wide (at least two working pixels).
_RING = 0.05
_WORK_SIDE = 320


def seen_from_above(pixels: np.ndarray, cutout: Cutout) -> bool:
    """Whether the photo is a flat lay, by the three rules above."""
    _width, height = cutout.image_size
    if height - cutout.box[3] < _CLEARANCE * height:
        return False
    if horizon(cutout) >= HORIZON_L:
        return False
    return contact(pixels, cutout) < CONTACT_L


def horizon(cutout: Cutout) -> float:
    """How much lighter or darker the background is at the frame's bottom row than at its top (L*)."""
    across = np.linspace(-1, 1, 17, dtype=np.float32)
    top = _lightness(cutout.background.rgb(across, np.full_like(across, -1)))
    bottom = _lightness(cutout.background.rgb(across, np.full_like(across, 1)))
    return abs(float(bottom.mean() - top.mean()))


def contact(pixels: np.ndarray, cutout: Cutout) -> float:
    """How much more darkened the ring round the product's lower third is than the ring round its
    upper third (L*, 90th percentiles): the ring is the background within a few percent of the silhouette."""
    height, width = pixels.shape[:2]
    scale = min(1.0, _WORK_SIDE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    product = _product(cutout, size)
    ys, xs = np.nonzero(product)
    top, bottom = ys.min(), ys.max()
    reach = max(2, round(_RING * max(bottom - top, np.ptp(xs))))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    ring = (cv2.dilate(product.astype(np.uint8), disk) > 0) & ~product
    rows = np.arange(size[1])[:, None]
    third = (bottom - top) / 3
    darkening = _darkening(small, cutout)
    return _dark(darkening[ring & (rows >= bottom - third)]) - _dark(darkening[ring & (rows <= top + third)])


def _product(cutout: Cutout, size: tuple[int, int]) -> np.ndarray:
    """The cut-out's silhouette (alpha above zero) on the working-size frame."""
    mask = np.zeros(cutout.image_size[::-1], np.uint8)
    x0, y0, x1, y1 = cutout.box
    mask[y0:y1, x0:x1] = cutout.alpha > 0
    return cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST) > 0


def _darkening(small: np.ndarray, cutout: Cutout) -> np.ndarray:
    """How much darker than the background model each working pixel is (L*, zero for lighter)."""
    height, width = small.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    u, v = (xs + 0.5) / width * 2 - 1, (ys + 0.5) / height * 2 - 1
    model = cutout.background.rgb(u.ravel().astype(np.float32), v.ravel().astype(np.float32))
    darker = _lightness(model) - _lightness(small.reshape(-1, 3))
    darkening: np.ndarray = np.maximum(darker, 0).reshape(height, width)
    return darkening


def _dark(values: np.ndarray) -> float:
    """How dark the darker part of a ring is: its 90th percentile, so a shadow on one side counts."""
    return float(np.percentile(values, 90)) if values.size else 0.0


def _lightness(colours: np.ndarray) -> np.ndarray:
    rgb = np.clip(colours, 0, 255).astype(np.float32).reshape(-1, 1, 3) / 255
    lightness: np.ndarray = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[:, 0, 0]
    return lightness
