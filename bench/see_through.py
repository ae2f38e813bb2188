"""How much of the new backdrop shows through see-through products, with and without the stage.

Run by `make bench` (or `PYTHONPATH=src:. .venv/bin/python bench/see_through.py` from the repository root). The drawn
sunglasses (lenses of transmission 0.45) and the clear bottle (0.8) of the tests are rendered onto
`noir` by the studio backend, once as the cut-out comes and once through `pipeline.transparency`.
For the lens pixels it prints their mean, the physical value t·N over the backdrop N they were
pasted on, the error to it, and the share of the way from the old photo's colour to t·N.
"""

import numpy as np
import pytest

from shopshot.pipeline import matte
from shopshot.pipeline.matte import product_cutout
from shopshot.pipeline.studio import RenderRequest, StudioBackend
from tests.pipeline.see_through_photos import Pastes, bottle, lens_on_canvas, see_through_share, sunglasses

CASES = (
    ("sunglasses 600×400", sunglasses((600, 400)), 0.45),
    ("sunglasses 1000×640", sunglasses((1000, 640)), 0.45),
    ("bottle 400×600", bottle(), 0.8),
)


def _row(label: str, stage: str, photo, lens: np.ndarray, transmission: float, pastes: Pastes) -> str:
    pastes.calls.clear()
    [result] = StudioBackend().run(RenderRequest(photo, "noir", "4:5", 1, 3))
    backdrop, pixels, cutout, origin = pastes.calls[-1]
    inside = lens_on_canvas(lens, product_cutout(photo).box, cutout, origin, backdrop.shape[:2])
    output = np.asarray(result.image, np.float32)
    rows, cols = cutout.alpha.shape
    old = np.zeros_like(output)
    old[origin[1] : origin[1] + rows, origin[0] : origin[0] + cols] = pixels[
        cutout.box[1] : cutout.box[3], cutout.box[0] : cutout.box[2]
    ]
    expected = transmission * backdrop[inside]
    error = np.abs(output[inside] - expected).mean(axis=-1)
    share = see_through_share(output[inside], backdrop[inside], old[inside], transmission)
    return (
        f"| {label} | {stage} | {output[inside].mean():.1f} | {expected.mean():.1f} | {error.mean():.1f} "
        f"| {np.median(error):.1f} | {100 * share:.1f}% |"
    )


def main() -> None:
    """Print the table, one row per case and stage."""
    patch = pytest.MonkeyPatch()
    pastes, staged = Pastes(patch), matte.see_through
    print("| product | stage | lens mean | t·N | mean error | median error | shown through |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, (photo, lens), transmission in CASES:
        for stage, function in (("without", lambda pixels, cutout: cutout), ("with", staged)):
            patch.setattr(matte, "see_through", function)
            print(_row(label, stage, photo, lens, transmission, pastes))
    patch.undo()


if __name__ == "__main__":
    main()
