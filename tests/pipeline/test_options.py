import pytest

from shopshot.errors import InvalidOption
from shopshot.pipeline.layout import MAX_LONG_SIDE, RATIOS, VARIANT_CHOICES, place_product, ratio
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
    assert 0 < x and x + box[0] < width and 0 < y and y + box[1] < height
    assert height - (y + box[1]) >= 0.1 * height or box[1] > 0.8 * height
    assert max(box[0] / width, box[1] / height) == pytest.approx(0.76, abs=0.02)


def test_long_side_is_clamped_but_the_product_is_never_shrunk():
    placement = place_product((3000, 800), ratio("9:16"))
    width, height = placement.size
    assert width >= 3000 and height > MAX_LONG_SIDE  # the product alone needs this much
    assert place_product((3500, 3500), ratio("1:1")).size == (MAX_LONG_SIDE, MAX_LONG_SIDE)
