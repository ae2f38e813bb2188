import numpy as np
import pytest
from PIL import Image

from fixtures.synthetic import synthetic_photo
from shopshot.pipeline.backdrops import STYLES
from shopshot.pipeline.gallery import _prepared_sample, badge_box, prepare_product, render_gallery, sample_product
from shopshot.pipeline.layout import ratio
from shopshot.pipeline.presets import BACKDROPS
from shopshot.pipeline.studio import render_variant

_KEYS = [item.key for item in BACKDROPS[:6]]


def _tiles(sheet: np.ndarray, thumb: int, rows: int, columns: int) -> list[np.ndarray]:
    gap = thumb // 20
    return [
        sheet[gap + row * (thumb + gap) :][:thumb, gap + col * (thumb + gap) :][:, :thumb]
        for row in range(rows)
        for col in range(columns)
    ]


def _inside(box: tuple[int, int, int, int], tile: np.ndarray, inset: int) -> np.ndarray:
    x0, y0, x1, y1 = box
    return tile[y0 + inset : y1 - inset, x0 + inset : x1 - inset]


def test_sample_product_is_bundled():
    image = sample_product()
    assert (image.mode, image.size) == ("RGB", (1200, 1500))


def test_gallery_has_a_numbered_tile_per_preset():
    sheet = np.asarray(render_gallery(_KEYS, first_number=1, thumb=160, columns=3))
    gap = 160 // 20
    assert sheet.shape == (2 * (160 + gap) + gap, 3 * (160 + gap) + gap, 3)
    tiles = _tiles(sheet, 160, 2, 3)
    for tile in tiles:
        badge = _inside(badge_box(160), tile, 6)  # inside the round badge, around its digit
        assert (badge.max(axis=2) < 60).mean() > 0.4  # the dark disc
        assert (badge.min(axis=2) > 200).any()  # the white digit
    corners = {tile[-4, -4].tobytes() for tile in tiles}
    assert len(corners) == 6  # six different backdrops


def test_a_page_is_two_tiles_a_row_for_a_phone():
    sheet = render_gallery(_KEYS, thumb=160)
    gap = 160 // 20
    assert sheet.size == (2 * (160 + gap) + gap, 3 * (160 + gap) + gap)


@pytest.mark.parametrize("seller", [False, True], ids=["sample", "seller's product"])
def test_the_badge_covers_none_of_the_product_on_any_backdrop(seller):
    thumb = 320
    product = prepare_product(synthetic_photo(0).image) if seller else _prepared_sample(thumb)
    x0, y0, x1, y1 = badge_box(thumb)
    for preset in BACKDROPS:
        rendered = render_variant(product.pixels, product.cutout, STYLES[preset.key], ratio("1:1"), seed=0)
        kept = np.asarray(rendered.protect.resize((thumb, thumb), Image.Resampling.NEAREST)) > 0
        assert kept.sum() > 1000 and not kept[y0:y1, x0:x1].any(), preset.key


def test_badges_show_their_numbers():
    first = np.asarray(render_gallery(_KEYS[:1], first_number=1, thumb=160, columns=1))
    seventh = np.asarray(render_gallery(_KEYS[:1], first_number=7, thumb=160, columns=1))
    gap = 160 // 20
    x0, y0, x1, y1 = badge_box(160)
    assert not np.array_equal(
        first[gap + y0 : gap + y1, gap + x0 : gap + x1], seventh[gap + y0 : gap + y1, gap + x0 : gap + x1]
    )
    assert np.array_equal(first[gap + y1 + 2 :], seventh[gap + y1 + 2 :])


def test_gallery_is_deterministic():
    assert render_gallery(_KEYS[:2], thumb=120).tobytes() == render_gallery(_KEYS[:2], thumb=120).tobytes()
