"""Flat lays: recognised by the plain rule in pipeline.viewpoint, and placed on surfaces seen from above."""

from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from fixtures.synthetic import synthetic_flat_lay, synthetic_photo
from shopshot.pipeline.backdrops import STYLES, Stage, look_of
from shopshot.pipeline.cutout import cut_out
from shopshot.pipeline.gallery import sample_product
from shopshot.pipeline.layout import ratio
from shopshot.pipeline.presets import BACKDROPS
from shopshot.pipeline.studio import RenderRequest, StudioBackend, fit_product, render_variant
from shopshot.pipeline.viewpoint import seen_from_above
from tests.pipeline.conftest import assert_product_kept

SMALL = (300, 375)


def _seen_from_above(image: Image.Image) -> bool:
    return seen_from_above(np.asarray(image), cut_out(image))


def test_the_sample_photo_stands_on_a_floor():
    assert not _seen_from_above(sample_product())
    assert not _seen_from_above(sample_product().resize((360, 450), Image.Resampling.LANCZOS))


@pytest.mark.parametrize("index", range(24))
def test_a_product_with_a_contact_shadow_or_on_a_sweep_stands(index):
    # Synthetic photos (drawn, not photographed): every shape on every background, shadow at the base.
    assert not _seen_from_above(synthetic_photo(index, SMALL).image)


@pytest.mark.parametrize("index", range(24))
def test_a_flat_lay_is_seen_from_above(index):
    # Synthetic flat lays (drawn): uniform surface, a drop shadow all round or none.
    assert _seen_from_above(synthetic_flat_lay(index, SMALL).image)


def test_a_product_cut_off_by_the_frames_bottom_stands():
    photo = np.asarray(synthetic_flat_lay(0, SMALL).image)
    product = cut_out(Image.fromarray(photo))
    cropped = Image.fromarray(photo[: product.box[3] - 4])
    assert not _seen_from_above(cropped)


def _render_flat_lay(preset: str, shadow: bool = True, enlarged: bool = False):
    """Flat lay 1 (a box) on `preset`, seen from above, with or without its shadow: on a canvas sized
    around the product at scale 1, or `enlarged` to the format's target as the studio renders it."""
    image = synthetic_flat_lay(1, SMALL).image
    style = STYLES[preset] if shadow else replace(STYLES[preset], shadow=0.0)
    pixels, cutout, framing = np.asarray(image), cut_out(image), None
    if enlarged:
        pixels, cutout, framing = fit_product(image, cutout, ratio("1:1"), style.fill)
    result = render_variant(pixels, cutout, style, ratio("1:1"), 0, framing, overhead=True)
    left, top = result.offset
    x0, y0, x1, y1 = cutout.box
    product = np.zeros(result.image.size[::-1], bool)
    product[y0 + top : y1 + top, x0 + left : x1 + left] = cutout.alpha > 0
    return np.asarray(result.image).astype(np.float32), product


def test_the_studio_lays_a_flat_lay_flat():
    image = synthetic_flat_lay(1, SMALL).image
    [result] = StudioBackend().run(RenderRequest(image, "studio", "1:1", 1, 0))
    pixels, _ = _render_flat_lay("studio", enlarged=True)
    assert np.array_equal(np.asarray(result.image), pixels.astype(np.uint8))
    # Its shadow goes round the product, never over it: the protected pixels are the photo's own.
    assert_product_kept(result, image)


def test_a_flat_lay_lies_in_the_middle():
    _, product = _render_flat_lay("studio")
    ys, xs = np.nonzero(product)
    height, width = product.shape
    assert abs((ys.min() + ys.max()) / 2 - height / 2) <= 2 and abs((xs.min() + xs.max()) / 2 - width / 2) <= 2


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("preset", [item.key for item in BACKDROPS])
def test_a_surface_seen_from_above_has_no_horizon(preset, seed):
    def paint(camera: float) -> np.ndarray:
        look = replace(look_of(seed), camera=camera)
        stage = Stage((300, 300), (40, 40, 260, 260), (60, 240), look, overhead=True)
        return STYLES[preset].paint(stage, np.random.default_rng(seed))

    # The camera's height moves the floor line, if there is one: seen from above there is none.
    low, high = paint(0.1), paint(0.6)
    assert np.array_equal(low, high)
    # Nor a wall above a floor: the top of the frame and its bottom keep much the same tone.
    profile = low.mean(axis=(1, 2))
    assert abs(profile[:37].mean() - profile[-37:].mean()) < 25


@pytest.mark.parametrize("preset", [item.key for item in BACKDROPS if item.key != "white"])
def test_a_flat_lay_casts_its_shadow_all_round(preset):
    shadowed, product = _render_flat_lay(preset)
    plain, _ = _render_flat_lay(preset, shadow=False)
    darkening = 1 - shadowed.mean(axis=2) / plain.mean(axis=2)
    distance = cv2.distanceTransform((~product).astype(np.uint8), cv2.DIST_L2, 5)
    ys, xs = np.nonzero((distance > 2) & (distance <= 8))
    ring = darkening[ys, xs]
    dy, dx = ys - np.nonzero(product)[0].mean(), xs - np.nonzero(product)[1].mean()
    sides = {"left": dx < -np.abs(dy), "right": dx > np.abs(dy), "top": dy < -np.abs(dx), "bottom": dy > np.abs(dx)}
    for side, where in sides.items():
        assert ring[where].mean() > 0.04, side


def test_a_flat_lay_on_white_has_a_soft_shadow_all_round_and_255_beyond_it():
    pixels, product = _render_flat_lay("white")
    darkest = pixels.min(axis=2)
    distance = cv2.distanceTransform((~product).astype(np.uint8), cv2.DIST_L2, 5)
    assert (darkest[distance > 40] == 255).all()
    ring = (distance > 0) & (distance <= 12)
    assert (darkest[ring] < 245).mean() > 0.3 and darkest[ring].min() > 140
