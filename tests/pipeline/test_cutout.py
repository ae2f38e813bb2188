import io

import numpy as np
import pytest
from PIL import Image

from shopshot.errors import NoProductFound
from shopshot.pipeline import cutout
from shopshot.pipeline.cutout import cut_out
from shopshot.pipeline.gallery import sample_product
from shopshot.pipeline.studio import RenderRequest, StudioBackend
from shopshot.pipeline.synthetic import synthetic_photo
from tests.pipeline.conftest import assert_product_kept, encode


def _iou(found: np.ndarray, truth: np.ndarray) -> float:
    return (found & truth).sum() / (found | truth).sum()


def _full_mask(cutout, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, bool)
    x0, y0, x1, y1 = cutout.box
    mask[y0:y1, x0:x1] = cutout.alpha >= 0.5
    return mask


# A round item, a bottle, a mug whose handle opening must stay open, a star split by a
# backdrop-coloured stripe, a pair of items, a product on a textured backdrop.
@pytest.mark.parametrize("index", [0, 2, 3, 10, 11, 18])
def test_cutout_matches_known_masks(index):
    photo = synthetic_photo(index, size=(360, 450))
    cutout = cut_out(photo.image)
    assert _iou(_full_mask(cutout, photo.mask.shape), photo.mask) > 0.9


def test_protect_is_solid_alpha_and_slightly_inside_it():
    photo = synthetic_photo(1, size=(360, 450))
    cutout = cut_out(photo.image)
    assert (cutout.alpha[cutout.protect] == 1).all()
    assert 0.8 * (cutout.alpha >= 0.5).sum() < cutout.protect.sum() < (cutout.alpha >= 0.5).sum()


@pytest.mark.parametrize(
    "pixels",
    [
        np.full((400, 320, 3), 235, np.uint8),
        np.linspace(180, 250, 400, dtype=np.uint8)[:, None, None].repeat(320, 1).repeat(3, 2),
    ],
    ids=["blank", "gradient"],
)
def test_empty_backdrop_has_no_product(pixels):
    with pytest.raises(NoProductFound):
        cut_out(Image.fromarray(pixels))


def _board(fill: float, size: tuple[int, int] = (1280, 960)) -> tuple[Image.Image, np.ndarray]:
    """A green circuit board with parts on it, centred on light grey, covering `fill` of the frame (JPEG, with noise)."""
    rng = np.random.default_rng(0)
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    shading = 1 - 0.06 * ys / height - 0.08 * ((xs / width - 0.5) ** 2 + (ys / height - 0.5) ** 2)
    pixels = np.float32([205, 207, 210]) * shading[..., None]
    board_w, board_h = round(width * fill**0.5), round(height * fill**0.5)
    x0, y0 = (width - board_w) // 2, (height - board_h) // 2
    pixels[y0 : y0 + board_h, x0 : x0 + board_w] = (30, 95, 55)
    for _ in range(60):
        part_w, part_h = rng.integers(10, 120, 2)
        px, py = rng.integers(x0, x0 + board_w - part_w), rng.integers(y0, y0 + board_h - part_h)
        pixels[py : py + part_h, px : px + part_w] = rng.choice([(20, 20, 22), (200, 190, 160), (180, 180, 185), (120, 60, 30)])
    pixels += rng.normal(0, 2, pixels.shape)
    mask = np.zeros((height, width), bool)
    mask[y0 : y0 + board_h, x0 : x0 + board_w] = True
    return Image.open(io.BytesIO(encode(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), "JPEG", quality=82))), mask


@pytest.mark.parametrize("fill", [0.9, 0.95])
def test_a_product_filling_most_of_the_frame_is_kept_when_the_backdrop_shows_around_it(fill):
    image, truth = _board(fill)
    cutout = cut_out(image.convert("RGB"))
    assert _iou(_full_mask(cutout, truth.shape), truth) > 0.93


@pytest.mark.parametrize("crop", [(500, 300, 1200, 1300), (0, 0, 1200, 850), (273, 482, 963, 1198)], ids=["left-side-cut", "bottom-cut", "touching-every-side"])
def test_a_product_the_frame_cuts_through_is_refused(crop):
    # The sample's mug spans (273, 482, 963, 1198): these crops cut through it, or leave no backdrop round it.
    with pytest.raises(NoProductFound):
        cut_out(sample_product().crop(crop))


def test_speck_is_not_a_product():
    pixels = np.full((400, 320, 3), 235, np.uint8)
    pixels[200:204, 150:154] = (20, 20, 20)
    with pytest.raises(NoProductFound):
        cut_out(Image.fromarray(pixels))


def test_a_large_products_edge_is_solved_on_a_copy_no_larger_than_the_cap(small_sample, monkeypatch):
    solved = []
    guided_filter = cutout._guided_filter
    monkeypatch.setattr(cutout, "_guided_filter", lambda crop, *args, **kwargs: solved.append(crop.shape[0] * crop.shape[1]) or guided_filter(crop, *args, **kwargs))
    full = cut_out(small_sample)
    monkeypatch.setattr(cutout, "EDGE_PIXELS", 30_000)
    capped = cut_out(small_sample)
    (x0, y0, x1, y1), (cx0, cy0, cx1, cy1) = full.box, capped.box
    assert solved[0] > 30_000 and solved[1] <= 1.1 * 30_000  # at full size, then on the copy (box plus a few pixels of margin) and capped.alpha.shape == capped.protect.shape == (cy1 - cy0, cx1 - cx0)
    assert max(abs(a - b) for a, b in zip(full.box, capped.box)) <= 4 and capped.image_size == small_sample.size
    both = np.zeros((2, *small_sample.size[::-1]), bool)
    both[0, y0:y1, x0:x1], both[1, cy0:cy1, cx0:cx1] = full.alpha >= 0.5, capped.alpha >= 0.5
    assert (both[0] & both[1]).sum() / (both[0] | both[1]).sum() > 0.98
    assert capped.protect.sum() > 0.9 * full.protect.sum() and (capped.alpha[capped.protect] == 1).all()
    [result] = StudioBackend().run(RenderRequest(small_sample, "studio", "9:16", 1, 3))  # capped, protect stays exact
    assert_product_kept(result, small_sample)
