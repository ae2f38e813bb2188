"""The face pass: a generated person's face repainted on its own, enlarged to the generation size.

The first pass spreads ~1 MP over the whole person: in a full-body shot the face gets a few dozen
generated pixels and comes out soft beside the garment's own. After the generation, the clothes
parser finds the face in the new image (its "Face" label, within what was repainted); a square
around it, FACE_MARGIN times its longer side, is cut from the full-size result, enlarged to the
stack's square generation size (one of the snapped sizes, so the warm-up and torch.compile's graphs
serve it) and repainted at FACE_STRENGTH under the face grown by a ring. It is laid back, resized,
through a feathered weight that is zero outside the plan's repaint mask: the kept garment is never
under it, and the plan's finish pastes the garment back byte for byte after it anyway. No face
found, or a crop enlarged less than FACE_FROM times (a close-up already generated sharp): no pass.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from shopshot.pipeline.diffusion.masks import feather, grow, mask_at, resized, shrink

if TYPE_CHECKING:
    from shopshot.pipeline.diffusion.perception import ClothesParser

FACE = ("Face",)
# Low enough to keep the first pass's face (the person the seller chose), high enough to redraw eyes and skin.
FACE_STRENGTH = 0.4
# The crop's side over the face's longer side: room for the hairline, the jaw and the ring below.
FACE_MARGIN = 1.6
# The repainted ring around the face, and the feather's reach, as a share of the crop's side.
FACE_RING = 0.08
# Below this enlargement of the face's first-pass pixels the pass adds little; it is skipped.
FACE_FROM = 1.25
# Fewer "Face" pixels than this are the parser's specks, not a face.
MIN_FACE = 16

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in the full-size image


def find_face(clothes: "ClothesParser", pixels: np.ndarray, generate: np.ndarray) -> np.ndarray:
    """Where the clothes parser sees a face in the generated full-size `pixels` (float RGB), within the repainted area."""
    labels = clothes(Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8)))
    face: np.ndarray = clothes.mask(labels, FACE) & generate
    return face


def face_box(face: np.ndarray) -> Box | None:
    """A square FACE_MARGIN times the face's longer side, about its centre, shifted to lie inside the image; None without a face."""
    ys, xs = np.nonzero(face)
    if len(ys) < MIN_FACE:
        return None
    height, width = face.shape
    longer = max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    side = int(min(width, height, round(FACE_MARGIN * longer)))
    x0 = int(np.clip(round((xs.min() + xs.max() + 1 - side) / 2), 0, width - side))
    y0 = int(np.clip(round((ys.min() + ys.max() + 1 - side) / 2), 0, height - side))
    return x0, y0, x0 + side, y0 + side


def wanted(box: Box, generated_scale: float, frame: tuple[int, int]) -> bool:
    """Whether a crop of `box`, generated at `generated_scale` pixels per image pixel, is enlarged enough at `frame`."""
    return frame[0] >= FACE_FROM * (box[2] - box[0]) * generated_scale


def retouch(
    pixels: np.ndarray,
    face: np.ndarray,
    generate: np.ndarray,
    box: Box,
    frame: tuple[int, int],
    run: Callable[[Image.Image, Image.Image], np.ndarray],
) -> np.ndarray:
    """`pixels` (float RGB, full size) with the face in `box` repainted; `run(image, mask)` paints the crop at `frame`."""
    x0, y0, x1, y1 = box
    ring = max(1, round(FACE_RING * (x1 - x0)))
    crop = pixels[y0:y1, x0:x1]
    area = (grow(face, ring) & generate)[y0:y1, x0:x1]
    image = Image.fromarray(np.clip(np.rint(resized(crop, frame)), 0, 255).astype(np.uint8))
    painted = resized(run(image, mask_at(area, frame)), (x1 - x0, y1 - y0))
    # 1 on the face, falling to ~0 across the ring, and 0 wherever the plan keeps the photo's pixels.
    weight = (feather(shrink(area, ring), 0.5 * ring) * area)[..., None]
    result = pixels.copy()
    result[y0:y1, x0:x1] = crop + weight * (painted - crop)
    return result
