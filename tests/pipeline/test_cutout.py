import numpy as np
import pytest
from PIL import Image

from shopshot.errors import NoProductFound
from shopshot.pipeline import cutout
from shopshot.pipeline.cutout import cut_out
from shopshot.pipeline.studio import RenderRequest, StudioBackend
from shopshot.pipeline.synthetic import synthetic_photo


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


def test_product_filling_the_whole_frame_is_refused():
    pixels = np.full((400, 320, 3), 235, np.uint8)
    pixels[6:-6, 6:-6] = (40, 90, 160)
    with pytest.raises(NoProductFound):
        cut_out(Image.fromarray(pixels))


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
    protect, left, top = np.asarray(result.protect) == 255, *result.offset
    ys, xs = np.nonzero(protect)
    assert np.array_equal(np.asarray(result.image)[ys, xs], np.asarray(small_sample)[ys - top, xs - left])
