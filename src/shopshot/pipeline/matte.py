"""The product matte every caller uses: `product_cutout` and `product_candidates`.

Where the neural stage's weights are present and loaded it answers; otherwise the classical
cut-out (`pipeline.cutout`) does. Candidates and the seller's choice travel as boxes in shares of
the photo's width and height (`NormBox`), so a choice made on the bot's small preview names the
same objects in the worker's full-size photo.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image

from shopshot.errors import NoProductFound
from shopshot.pipeline.cutout import Cutout, cut_out
from shopshot.pipeline.transparency import estimate_foreground, see_through

# x0, y0, x1, y1 as shares (0..1) of the photo's width and height.
NormBox = tuple[float, float, float, float]
# A loaded neural stage (`pipeline.matting.neural.NeuralMatte`): photo and box prompts in, cut-out out.
NeuralStage = Callable[[Image.Image, tuple[NormBox, ...]], Cutout]
# Where the classical cut-out finds nothing to prompt with, the neural stage looks in the frame's middle.
_CENTRE: NormBox = (0.1, 0.1, 0.9, 0.9)


@dataclass(frozen=True)
class Candidate:
    """One plausible product in a photo: its box, and the share of the frame it covers."""

    box: NormBox
    share: float


def product_cutout(image: Image.Image, keep: tuple[NormBox, ...] = (), neural: NeuralStage | None = None) -> Cutout:
    """The product's cut-out; `keep` (the seller's choice of candidates) empty means the automatic one."""
    if neural is not None:
        return with_foreground(np.asarray(image), neural(image, keep or _prompts(image)))
    cutout = cut_out(image)
    return see_through(np.asarray(image), restricted(cutout, keep) if keep else cutout)


def with_foreground(pixels: np.ndarray, cutout: Cutout) -> Cutout:
    """The cut-out with the product's own colour estimated under its matte (`transparency.estimate_foreground`).

    The neural matte follows products on any background, where the smooth background surface the
    classical edge recomposition assumes does not exist (a wooden table): its partial pixels are
    recomposed from this estimate instead.
    """
    if cutout.foreground is not None:
        return cutout
    x0, y0, x1, y1 = cutout.box
    return replace(cutout, foreground=estimate_foreground(pixels[y0:y1, x0:x1], cutout.alpha))


def product_candidates(image: Image.Image, neural: NeuralStage | None = None) -> tuple[Candidate, ...]:
    """The plausible products in a photo, left to right; one means there is nothing to choose."""
    return candidates_of(cut_out(image) if neural is None else product_cutout(image, neural=neural))


def candidates_of(cutout: Cutout) -> tuple[Candidate, ...]:
    """The separate parts of a cut-out as candidates, left to right."""
    return tuple(candidate for candidate, _ in _components(cutout))


def _prompts(image: Image.Image) -> tuple[NormBox, ...]:
    """Box prompts for the neural stage: the classical candidates, or the frame's middle where there are none."""
    try:
        return tuple(candidate.box for candidate, _ in _components(cut_out(image))) or (_CENTRE,)
    except NoProductFound:
        return (_CENTRE,)


# A part smaller than this share of the largest is a fragment of a candidate (a sliver of rim beside
# a handle's opening), not a product of its own; it goes with the nearest candidate.
_FRAGMENT = 0.15


def _components(cutout: Cutout) -> list[tuple[Candidate, np.ndarray]]:
    """Each separate part of the cut-out (its solid alpha, 8-connected), left to right, with its mask."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats((cutout.alpha >= 0.5).astype(np.uint8), connectivity=8)
    if count <= 1:
        return []
    width, height = cutout.image_size
    x0, y0 = cutout.box[:2]
    floor = _FRAGMENT * stats[1:, cv2.CC_STAT_AREA].max()
    big = sorted(
        (index for index in range(1, count) if stats[index, cv2.CC_STAT_AREA] >= floor),
        key=lambda index: stats[index, cv2.CC_STAT_LEFT],
    )
    parts = []
    for label in big:
        left, top, cols, rows, area = (int(value) for value in stats[label])
        box = ((x0 + left) / width, (y0 + top) / height, (x0 + left + cols) / width, (y0 + top + rows) / height)
        parts.append((Candidate(box, area / (width * height)), labels == label))
    return parts


def restricted(cutout: Cutout, keep: tuple[NormBox, ...]) -> Cutout:
    """The cut-out with only the candidates that best match the kept boxes; NoProductFound when none does."""
    parts = _components(cutout)
    chosen = set()
    for box in keep:
        scores = [_overlap(candidate.box, box) for candidate, _ in parts]
        if scores and max(scores) > 0:
            chosen.add(int(np.argmax(scores)))
    if not chosen:
        raise NoProductFound()
    # Every pixel of the matte (fragments and soft edges too) belongs to its nearest candidate.
    distances = np.stack([cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3) for _, mask in parts])
    mine = np.isin(distances.argmin(axis=0), sorted(chosen)) & (cutout.alpha > 0)
    alpha = np.where(mine, cutout.alpha, 0).astype(np.float32)
    ys, xs = np.nonzero(alpha)
    top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    x0, y0 = cutout.box[:2]
    crop = np.s_[top:bottom, left:right]
    foreground = None if cutout.foreground is None else cutout.foreground[crop]
    return Cutout(
        (int(x0 + left), int(y0 + top), int(x0 + right), int(y0 + bottom)),
        alpha[crop],
        (cutout.protect & mine)[crop],
        cutout.background,
        cutout.image_size,
        foreground,
    )


def _overlap(a: NormBox, b: NormBox) -> float:
    """Intersection over union of two boxes."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
