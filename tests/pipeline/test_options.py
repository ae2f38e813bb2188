import pytest

from shopshot.errors import InvalidOption
from shopshot.pipeline.layout import (
    FILL,
    KEEP_PIXELS_UP_TO,
    MAX_LONG_SIDE,
    MAX_PIXELS,
    RATIOS,
    VARIANT_CHOICES,
    Fit,
    expected_fit,
    fit,
    place_product,
    ratio,
    scaled,
)
from shopshot.pipeline.presets import BACKDROPS, backdrop


def test_presets_fit_buttons_and_callback_data():
    assert len(BACKDROPS) >= 8 and BACKDROPS[0].key == "white"
    assert len({item.key for item in BACKDROPS}) == len(BACKDROPS)
    for item in BACKDROPS:
        assert item.key.isascii() and len(item.key) <= 12
        assert 0 < len(item.title) <= 20 and item.description.endswith(".")


def test_lookups_and_unknown_keys():
    assert backdrop("podium").key == "podium"
    assert ratio("9:16").use == "stories"
    assert VARIANT_CHOICES == (1, 2, 4)
    for lookup, key in ((backdrop, "nope"), (ratio, "5:4")):
        with pytest.raises(InvalidOption) as caught:
            lookup(key)
        assert caught.value.params == {"value": key}


@pytest.mark.parametrize("shape", RATIOS)
@pytest.mark.parametrize("box", [(780, 780), (300, 900), (900, 200), (40, 40)])
def test_product_fits_with_a_floor_below(shape, box):
    placement = place_product(box, shape)
    (width, height), (x, y) = placement.size, placement.origin
    assert abs(width / height - shape.width / shape.height) < 0.02
    assert x > 0 and x + box[0] < width and y > 0 and y + box[1] < height
    assert height - (y + box[1]) >= 0.1 * height or box[1] > 0.8 * height
    assert max(box[0] / width, box[1] / height) == pytest.approx(0.76, abs=0.02)


def test_long_side_is_clamped_but_the_product_is_never_shrunk():
    placement = place_product((3000, 800), ratio("9:16"))
    width, height = placement.size
    assert width >= 3000 and height > MAX_LONG_SIDE  # the product alone needs this much
    assert place_product((3500, 3500), ratio("1:1")).size == (MAX_LONG_SIDE, MAX_LONG_SIDE)


@pytest.mark.parametrize("shape", RATIOS, ids=[item.key for item in RATIOS])
def test_every_format_has_a_target_of_its_ratio_for_marketplaces_and_feeds(shape):
    width, height = shape.target
    assert width * shape.height == height * shape.width  # exactly the ratio: no crop on upload
    assert (
        min(width, height) >= 1080 and 1350 <= max(width, height) <= 2000
    )  # past Amazon's 1000-px zoom, modest for the worker


@pytest.mark.parametrize("shape", RATIOS, ids=[item.key for item in RATIOS])
def test_a_small_product_is_enlarged_to_fill_the_target(shape):
    box = (300, 420)
    framing = fit(box, shape)
    assert framing.size == shape.target and framing.scale > KEEP_PIXELS_UP_TO
    width, height = scaled(box, framing.scale)
    assert max(width / shape.target[0], height / shape.target[1]) == pytest.approx(FILL, abs=0.005)
    placement = place_product((width, height), shape, size=framing.size)
    assert placement.size == shape.target and placement.origin[0] > 0 and placement.origin[1] + height < shape.target[1]


@pytest.mark.parametrize("shape", RATIOS, ids=[item.key for item in RATIOS])
def test_a_product_that_nearly_fills_the_target_keeps_its_own_pixels(shape):
    enlarge = 1.05  # less than KEEP_PIXELS_UP_TO: a little looser framing rather than resampled pixels
    box = (round(FILL * shape.target[0] / enlarge), round(FILL * shape.target[1] / enlarge))
    assert fit(box, shape) == Fit(1.0, shape.target)


@pytest.mark.parametrize("shape", RATIOS, ids=[item.key for item in RATIOS])
def test_a_large_product_keeps_its_own_pixels_on_a_larger_canvas_up_to_the_cap(shape):
    framing = fit((2600, 3000), shape)
    assert framing.scale == 1 and framing.size[0] > shape.target[0] and framing.size[1] > shape.target[1]
    capped = fit((6000, 7000), shape)  # a 40-MP photo's product: at scale 1 its canvas would pass the cap
    width, height = capped.size
    assert capped.scale < 1 and 0.98 * MAX_PIXELS < width * height <= 1.002 * MAX_PIXELS
    assert abs(width / height - shape.width / shape.height) < 0.01


def test_the_summary_expects_a_small_photo_to_be_enlarged_and_a_large_file_not():
    assert expected_fit((800, 800), ratio("1:1")).scale > 1.5
    assert expected_fit((3000, 3000), ratio("1:1")).scale == 1
