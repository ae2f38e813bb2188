"""Putting the product on a backdrop: contact shadow, floor reflection, the matted edge and any
see-through part, and last of all the product's own pixels copied back unchanged.

A pixel of partial alpha (the edge, a lens) is I = a·F + (1 − a)·B over the original background B,
so over a new backdrop N it becomes a·F + (1 − a)·N: with the cut-out's foreground F where the
matte estimated it, else I + (1 − a)(N − B) from the background model. That swaps the old
background out of the fringe and out of a lens instead of leaving it there. Pixels at alpha 1 are
the photo's, and inside `protect` byte for byte.
"""

import cv2
import numpy as np

from shopshot.pipeline.backdrops import Stage
from shopshot.pipeline.cutout import Cutout

# Alpha at or above this is opaque product: the backdrop behind it does not show (float rounding
# leaves a feathered core a hair under 1).
OPAQUE = 0.99
# The base of the product: the bottom few percent of its height, where it touches the floor.
_FOOT_SHARE = 0.03


def foot_span(cutout: Cutout) -> tuple[int, int]:
    """Columns (box coordinates, end exclusive) where the product touches its base line."""
    rows = max(1, round(_FOOT_SHARE * cutout.alpha.shape[0]))
    columns = np.nonzero(cutout.alpha[-rows:].max(axis=0) > 0.5)[0]
    if columns.size == 0:
        return 0, cutout.alpha.shape[1]
    return int(columns[0]), int(columns[-1]) + 1


def place_alpha(cutout: Cutout, origin: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """The cut-out's alpha on a canvas of `size`, its box's corner at `origin`."""
    width, height = size
    canvas = np.zeros((height, width), np.float32)
    x0, y0 = origin
    rows, cols = cutout.alpha.shape
    canvas[y0 : y0 + rows, x0 : x0 + cols] = cutout.alpha
    return canvas


def shadow_map(alpha: np.ndarray, stage: Stage) -> np.ndarray:
    """Shadow density 0..1 on the floor: a tight contact line, a soft pool, a cast silhouette; seen
    from above, a soft drop shadow all round instead."""
    factor = max(1, round(stage.unit / 256))
    height, width = alpha.shape
    small_size = (max(1, width // factor), max(1, height // factor))
    small = cv2.resize(alpha, small_size, interpolation=cv2.INTER_AREA)
    scale = small_size[0] / width, small_size[1] / height
    if stage.overhead:
        density = _drop(small, stage, scale[0])
    else:
        contact = _contact(small.shape, stage, scale)
        cast = _cast(small, stage, scale[1])
        density = 1 - (1 - contact) * (1 - 0.55 * cast)
    return cv2.resize(density, (width, height), interpolation=cv2.INTER_LINEAR)


def _drop(small: np.ndarray, stage: Stage, scale: float) -> np.ndarray:
    """A product lying on the surface: a tight darkening hugging its edge all round, and a wider
    soft shadow pushed a little away from the light (from the key light's side and the top)."""
    reach = max(0.5, 0.015 * stage.unit * scale)
    tight = cv2.GaussianBlur(small, (0, 0), reach)
    shift = np.array([[1, 0, -stage.light * reach], [0, 1, 1.2 * reach]], np.float32)
    moved = cv2.warpAffine(small, shift, small.shape[::-1], flags=cv2.INTER_LINEAR)
    soft = cv2.GaussianBlur(moved, (0, 0), 3 * reach)
    return 1 - (1 - 0.5 * tight) * (1 - 0.6 * soft)


def _soft_ellipse(
    shape: tuple[int, int], centre: tuple[float, float], axes: tuple[float, float], opacity: float, blur: float
) -> np.ndarray:
    layer = np.zeros(shape, np.uint8)
    cv2.ellipse(
        layer,
        (round(centre[0] * 16), round(centre[1] * 16)),
        (max(1, round(axes[0] * 16)), max(1, round(axes[1] * 16))),
        0,
        0,
        360,
        255,
        -1,
        cv2.LINE_AA,
        4,
    )
    return cv2.GaussianBlur(layer.astype(np.float32) * (opacity / 255), (0, 0), max(blur, 0.5))


def _contact(shape: tuple[int, int], stage: Stage, scale: tuple[float, float]) -> np.ndarray:
    """Darkness right under the product (where little light reaches) plus a wider, fainter pool."""
    sx, sy = scale
    foot_centre, foot_half = (stage.foot[0] + stage.foot[1]) / 2 * sx, (stage.foot[1] - stage.foot[0]) / 2 * sx
    box_half = (stage.box[2] - stage.box[0]) / 2 * sx
    base = stage.base * sy
    tight_height = max(1.0, 0.05 * foot_half)
    tight = _soft_ellipse(
        shape, (foot_centre, base - tight_height * 0.8), (foot_half * 1.02, tight_height), 0.8, tight_height
    )
    pool_half = max(foot_half * 1.25, box_half * 0.85)
    pool = _soft_ellipse(shape, (foot_centre, base), (pool_half, 0.12 * pool_half), 0.5, 0.1 * pool_half)
    shadow: np.ndarray = 1 - (1 - tight) * (1 - pool)
    return shadow


def _cast(small: np.ndarray, stage: Stage, sy: float) -> np.ndarray:
    """The silhouette laid on the floor behind the product, away from the key light, blurred."""
    base = stage.base * sy
    shear = -0.5 * stage.light
    # Maps (x, y) to (x + shear·(base − y), base − 0.22·(base − y)): squashed toward the base.
    matrix = np.array([[1, -shear, shear * base], [0, 0.22, 0.78 * base]], np.float32)
    cast = cv2.warpAffine(small, matrix, small.shape[::-1], flags=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(cast, (0, 0), max(0.5, 0.04 * stage.product_height * sy))


def apply_shadow(pixels: np.ndarray, density: np.ndarray, strength: float) -> None:
    """Darken the backdrop under the shadow, keeping its hue (a shadow multiplies, it does not paint); uses up `density`."""
    density *= -strength  # in place: at 40 MP each full-canvas temporary is 180 MB
    density += 1
    pixels *= density[..., None]


def add_reflection(
    pixels: np.ndarray, image: np.ndarray, cutout: Cutout, origin: tuple[int, int], strength: float
) -> None:
    """Mirror the product's lower part into a glossy floor below it, fading with distance."""
    x0, y0 = origin
    rows, cols = cutout.alpha.shape
    length = min(int(0.35 * rows), pixels.shape[0] - (y0 + rows))
    if length <= 0:
        return
    bx0, _by0, bx1, by1 = cutout.box
    source = image[by1 - length : by1, bx0:bx1][::-1].astype(np.float32)
    if cutout.foreground is not None:  # a lens mirrors its own colour, not the old backdrop behind it
        partial = (cutout.alpha[rows - length :] < 1)[::-1]
        source[partial] = cutout.foreground[rows - length :][::-1][partial]
    fade = strength * (1 - np.linspace(0, 1, length, dtype=np.float32)) ** 2
    weight = cutout.alpha[rows - length :][::-1] * fade[:, None]
    floor = pixels[y0 + rows : y0 + rows + length, x0 : x0 + cols]
    floor += (source - floor) * weight[..., None]


def paste_product(
    pixels: np.ndarray, image: np.ndarray, cutout: Cutout, origin: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Composite the product onto the float backdrop (used up); return the 8-bit canvas and the protect mask."""
    x0, y0 = origin
    rows, cols = cutout.alpha.shape
    bx0, by0, bx1, by1 = cutout.box
    source = image[by0:by1, bx0:bx1]
    region = pixels[y0 : y0 + rows, x0 : x0 + cols]
    ys, xs = np.nonzero((cutout.alpha > 0) & (cutout.alpha < 1))
    keep = (1 - cutout.alpha[ys, xs])[:, None]
    if cutout.foreground is None:
        region[ys, xs] = source[ys, xs] + keep * (region[ys, xs] - cutout.background_at(ys, xs))
    else:
        region[ys, xs] = (1 - keep) * cutout.foreground[ys, xs] + keep * region[ys, xs]
    np.copyto(region, source, where=(cutout.alpha >= 1)[..., None])  # no gathered copy of the product
    np.rint(pixels, out=pixels)
    canvas = np.clip(pixels, 0, 255, out=pixels).astype(np.uint8)
    # The promise: inside `protect` the output is the input, byte for byte. Copy it back last.
    np.copyto(canvas[y0 : y0 + rows, x0 : x0 + cols], source, where=cutout.protect[..., None])
    protect = np.zeros(canvas.shape[:2], np.uint8)
    protect[y0 : y0 + rows, x0 : x0 + cols][cutout.protect] = 255
    return canvas, protect
