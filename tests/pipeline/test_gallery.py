import numpy as np

from shopshot.pipeline.gallery import render_gallery, sample_product
from shopshot.pipeline.presets import BACKDROPS

_KEYS = [item.key for item in BACKDROPS[:6]]


def test_sample_product_is_bundled():
    image = sample_product()
    assert (image.mode, image.size) == ("RGB", (1200, 1500))


def test_gallery_has_a_numbered_tile_per_preset():
    sheet = np.asarray(render_gallery(_KEYS, first_number=1, thumb=160, columns=3))
    gap = 160 // 20
    assert sheet.shape == (2 * (160 + gap) + gap, 3 * (160 + gap) + gap, 3)
    tiles = [sheet[gap + row * (160 + gap) :][:160, gap + col * (160 + gap) :][:, :160] for row in range(2) for col in range(3)]
    for tile in tiles:
        badge = tile[12:36, 12:36]  # inside the round badge, around its digit
        assert (badge.max(axis=2) < 60).mean() > 0.4  # the dark disc
        assert (badge.min(axis=2) > 200).any()  # the white digit
    corners = {tile[-4, -4].tobytes() for tile in tiles}
    assert len(corners) == 6  # six different backdrops


def test_badges_show_their_numbers():
    first = np.asarray(render_gallery(_KEYS[:1], first_number=1, thumb=160, columns=1))
    seventh = np.asarray(render_gallery(_KEYS[:1], first_number=7, thumb=160, columns=1))
    assert not np.array_equal(first[8:48, 8:48], seventh[8:48, 8:48])
    assert np.array_equal(first[60:], seventh[60:])


def test_gallery_is_deterministic():
    assert render_gallery(_KEYS[:2], thumb=120).tobytes() == render_gallery(_KEYS[:2], thumb=120).tobytes()
