import numpy as np

from shopshot.pipeline.diffusion.backdrop import plan_backdrop
from shopshot.pipeline.matte import product_cutout
from shopshot.pipeline.studio import RenderRequest
from tests.pipeline.see_through_photos import Pastes, lens_on_canvas, sunglasses

TRANSMISSION = 0.45


def test_the_generated_scene_shows_through_the_lenses(backend, monkeypatch):
    photo, lens = sunglasses((600, 400), TRANSMISSION)
    request = RenderRequest(photo, "noir", "4:5", 1, 5)
    plan = plan_backdrop(request, backend.models)
    pastes = Pastes(monkeypatch)
    [result] = backend.run(request)
    backdrop, pixels, cutout, origin = pastes.calls[
        -1
    ]  # the finish's paste, onto the generated scene (the layout's came first)
    inside = lens_on_canvas(lens, product_cutout(photo).box, cutout, origin, backdrop.shape[:2])
    assert inside.sum() > 10_000 and plan.generate[inside].all()  # the scene is generated behind the lenses
    output = np.asarray(result.image)
    error = np.abs(output[inside].astype(np.float32) - TRANSMISSION * backdrop[inside])
    assert error.mean() < 2.5 and np.percentile(error, 99) < 8  # t·N, N the generated scene
    protect = np.asarray(result.protect) == 255
    assert protect.sum() > 1000 and not protect[inside].any()
    # The frame's core is the product's pixels (here its box enlarged for the format) byte for byte.
    ys, xs = np.nonzero(protect)
    left, top = origin[0] - cutout.box[0], origin[1] - cutout.box[1]
    assert np.array_equal(output[ys, xs], pixels[ys - top, xs - left])
