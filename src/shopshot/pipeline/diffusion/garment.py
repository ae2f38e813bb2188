"""The person tasks' garment as a Cutout, pasted back through the same code as the backdrop task's product.

The clothes parser's mask is coarse (SegFormer's logits are a quarter of its 512-px input, a cell
is 1/128 of the frame's side). Where the neural matte is loaded it refines that outline
(`NeuralMatte.refine`) within REACH_SHARE of the frame's long side (about one and a half cells), and
solves a partial edge; without it the mask is feathered, as before. Either way the edge's own colour
is estimated (`estimate_foreground`), so `compositing.paste_product` lays it over the new person or
scene as a·F + (1 − a)·N, and copies the solid core (`protect`) back byte for byte.
"""

from dataclasses import replace
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image

from shopshot.errors import NoProductFound
from shopshot.pipeline.cutout import WORK_SIDE, BackgroundModel, Cutout, fit_background
from shopshot.pipeline.diffusion.masks import feather, ring_width, shrink
from shopshot.pipeline.transparency import estimate_foreground

if TYPE_CHECKING:
    from shopshot.pipeline.matting.neural import NeuralMatte

REACH_SHARE = 0.012


def garment_cutout(image: Image.Image, keep: np.ndarray, neural: "NeuralMatte | None" = None) -> Cutout:
    """The kept region (bool, the photo's size) as a Cutout with its edge's foreground colour; refined when `neural` is given."""
    pixels = np.asarray(image)
    if neural is None:
        cutout = _feathered(pixels, keep)
    else:
        cutout = neural.refine(image, keep, max(2, round(REACH_SHARE * max(image.size))))
    x0, y0, x1, y1 = cutout.box
    return replace(cutout, foreground=estimate_foreground(pixels[y0:y1, x0:x1], cutout.alpha))


def _feathered(pixels: np.ndarray, keep: np.ndarray) -> Cutout:
    """The parser's mask feathered into an alpha, exactly 1 on its core shrunk by half the ring (`protect`)."""
    size = (pixels.shape[1], pixels.shape[0])
    sigma = max(0.5, 0.25 * ring_width(size))
    ys, xs = np.nonzero(keep)
    if not len(ys):
        raise NoProductFound()
    # Worked on the mask's box and the Gaussian's reach (4 sigma) around it: the same alpha as over
    # the whole frame, without blurring a 12 MP frame of zeros.
    reach = int(np.ceil(4 * sigma)) + 1
    x0, y0 = max(0, int(xs.min()) - reach), max(0, int(ys.min()) - reach)
    x1, y1 = min(size[0], int(xs.max()) + 1 + reach), min(size[1], int(ys.max()) + 1 + reach)
    protect = shrink(keep[y0:y1, x0:x1], max(2, ring_width(size) // 2))
    alpha = np.maximum(feather(keep[y0:y1, x0:x1], sigma), protect)
    alpha[alpha < 1 / 255] = 0  # the Gaussian's far tail: no pixel's colour would change
    return Cutout((x0, y0, x1, y1), alpha, protect, _border_background(pixels), size)


def _border_background(pixels: np.ndarray) -> BackgroundModel:
    """The photo border's background model, as the cut-outs fit it; the paste uses the foreground instead."""
    height, width = pixels.shape[:2]
    scale = min(1.0, WORK_SIDE / max(height, width))
    small = cv2.resize(
        pixels, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
    )
    return fit_background(cv2.GaussianBlur(small, (0, 0), 1.0))
