"""The product at another scale than the photo's: its box resampled from the seller's pixels, never redrawn.

A product too small for its format's target is enlarged, one past the pixel cap reduced (see
`layout.fit`). Only the product's box is resampled, on its own: the pixels with Lanczos, the matte
bilinearly (by area when reducing), and `protect` kept inside the resampled solid part. The result
is a cut-out over a frame that is that box alone, which compositing takes as it takes the photo's.
"""

import cv2
import numpy as np
from PIL import Image

from shopshot.pipeline.cutout import Cutout


def resampled(image: Image.Image, cutout: Cutout, size: tuple[int, int]) -> tuple[np.ndarray, Cutout]:
    """The product's box of `image` resampled to `size`, and its cut-out over that box alone."""
    # Pillow reads the box's neighbours too, so the box's edge pixels are resampled like the rest.
    pixels = np.asarray(image.resize(size, Image.Resampling.LANCZOS, box=cutout.box))
    box_w, box_h = cutout.alpha.shape[1], cutout.alpha.shape[0]
    interpolation = cv2.INTER_LINEAR if size[0] >= box_w and size[1] >= box_h else cv2.INTER_AREA
    alpha = cv2.resize(cutout.alpha, size, interpolation=interpolation)
    protect = cv2.resize(cutout.protect.astype(np.float32), size, interpolation=interpolation) >= 0.999
    alpha[protect] = 1
    background = cutout.background.over(cutout.box, cutout.image_size)
    np.clip(alpha, 0, 1, out=alpha)
    foreground = None
    if cutout.foreground is not None:
        # Premultiplied, so the product's colour is not mixed with whatever lies at alpha 0.
        carried = cv2.resize(cutout.foreground * cutout.alpha[..., None], size, interpolation=interpolation)
        foreground = carried / np.maximum(alpha, 1e-6)[..., None]
    return pixels, Cutout((0, 0, *size), alpha, protect, background, size, foreground)
