import io

import cv2
import numpy as np
import pytest
import skimage.data
from PIL import Image

from fixtures.synthetic import synthetic_photo
from shopshot.errors import NoProductFound, ProductUnclear
from shopshot.pipeline import cutout
from shopshot.pipeline.cutout import cut_out
from shopshot.pipeline.gallery import sample_product
from shopshot.pipeline.studio import RenderRequest, StudioBackend
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
        pixels[py : py + part_h, px : px + part_w] = rng.choice(
            [(20, 20, 22), (200, 190, 160), (180, 180, 185), (120, 60, 30)]
        )
    pixels += rng.normal(0, 2, pixels.shape)
    mask = np.zeros((height, width), bool)
    mask[y0 : y0 + board_h, x0 : x0 + board_w] = True
    return Image.open(
        io.BytesIO(encode(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), "JPEG", quality=82))
    ), mask


@pytest.mark.parametrize("fill", [0.9, 0.95])
def test_a_product_filling_most_of_the_frame_is_kept_when_the_backdrop_shows_around_it(fill):
    image, truth = _board(fill)
    cutout = cut_out(image.convert("RGB"))
    assert _iou(_full_mask(cutout, truth.shape), truth) > 0.93


@pytest.mark.parametrize(
    "crop",
    [(500, 300, 1200, 1300), (0, 0, 1200, 850), (273, 482, 963, 1198)],
    ids=["left-side-cut", "bottom-cut", "touching-every-side"],
)
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
    monkeypatch.setattr(
        cutout,
        "_guided_filter",
        lambda crop, *args, **kwargs: (
            solved.append(crop.shape[0] * crop.shape[1]) or guided_filter(crop, *args, **kwargs)
        ),
    )
    full = cut_out(small_sample)
    monkeypatch.setattr(cutout, "EDGE_PIXELS", 30_000)
    capped = cut_out(small_sample)
    (x0, y0, x1, y1), (cx0, cy0, cx1, cy1) = full.box, capped.box
    assert (
        solved[0] > 30_000 and solved[1] <= 1.1 * 30_000
    )  # at full size, then on the copy (box plus a few pixels of margin)
    assert capped.alpha.shape == capped.protect.shape == (cy1 - cy0, cx1 - cx0)
    assert max(abs(a - b) for a, b in zip(full.box, capped.box)) <= 4 and capped.image_size == small_sample.size
    both = np.zeros((2, *small_sample.size[::-1]), bool)
    both[0, y0:y1, x0:x1], both[1, cy0:cy1, cx0:cx1] = full.alpha >= 0.5, capped.alpha >= 0.5
    assert (both[0] & both[1]).sum() / (both[0] | both[1]).sum() > 0.98
    assert capped.protect.sum() > 0.9 * full.protect.sum() and (capped.alpha[capped.protect] == 1).all()
    [result] = StudioBackend().run(RenderRequest(small_sample, "studio", "9:16", 1, 3))  # capped, protect stays exact
    assert_product_kept(result, small_sample)


def _on_busy_photo(background: np.ndarray, axes: tuple[int, int] = (95, 130)) -> tuple[Image.Image, np.ndarray]:
    """A blue oval product, shaded left to right, drawn over a crop of a real photo resized to 360×450."""
    back = cv2.resize(background, (360, 450), interpolation=cv2.INTER_AREA)
    truth = np.zeros((450, 360), np.uint8)
    cv2.ellipse(truth, (180, 235), axes, 0, 0, 360, 1, -1)
    shade = np.linspace(0.8, 1.1, 360, dtype=np.float32)[None, :, None]
    pixels = np.where(truth[..., None] > 0, np.float32([40, 90, 200]) * shade, back)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8)), truth > 0


@pytest.mark.parametrize("crop", [np.s_[:250, :400], np.s_[:, 430:600]], ids=["motorcycle-garage", "coffee-table"])
def test_a_product_on_a_busy_background_is_cut_out_from_the_centre_prior(crop):
    # Backgrounds from scikit-image's photos: the cluttered garage behind its stereo motorcycle, and
    # the wooden table right of the coffee cup; both too busy for the border's backdrop model.
    photo = skimage.data.stereo_motorcycle()[0] if crop[0] == slice(None, 250) else skimage.data.coffee()
    image, truth = _on_busy_photo(photo[crop])
    smooth = cv2.GaussianBlur(cutout._shrink(np.asarray(image)), (0, 0), 1.0)
    assert cutout.fit_background(smooth).sigma > cutout._MAX_BACKDROP_SIGMA
    found = cut_out(image)
    assert _iou(_full_mask(found, truth.shape), truth) > 0.95
    assert found.foreground is None and (found.alpha[found.protect] == 1).all()


def test_the_coffee_photo_gives_its_cup_saucer_and_spoon():
    """scikit-image's coffee photo: an espresso cup on a saucer, a spoon beside it, on a wooden table."""
    photo = skimage.data.coffee()
    found, again = cut_out(Image.fromarray(photo)), cut_out(Image.fromarray(photo))
    assert found.box == again.box and np.array_equal(found.alpha, again.alpha)  # the same photo, the same cut-out
    mask = _full_mask(found, photo.shape[:2])
    x0, y0, x1, y1 = found.box
    # The saucer spans about x 75-480, y 70-390 of the 600×400 photo; the cup's rim reaches y 18.
    assert x0 < 80 and x1 > 470 and y0 < 25 and y1 > 380
    assert 0.4 < mask.mean() < 0.55
    assert mask[150, 290] and mask[290, 230] and mask[290, 365] and mask[300, 110]  # coffee, handle, spoon, saucer rim
    assert not mask[20:60, 20:60].any() and not mask[200:400, 520:].any()  # the table's dark corner and its wood


@pytest.mark.parametrize("name", ["chelsea", "astronaut"])
def test_photos_with_no_clear_product_are_refused_as_unclear(name):
    # scikit-image's cat fills its photo (GrabCut alone finds a patch of its face); its portrait of an
    # astronaut runs off the bottom and sides of the frame (GrabCut alone finds a head and a suit).
    with pytest.raises(ProductUnclear):
        cut_out(Image.fromarray(getattr(skimage.data, name)()))


def test_the_gate_refuses_an_outline_off_the_photos_edges():
    """The coffee photo's own cut-out passes the gate; the same outline moved 20 px to the right does not."""
    small = cutout._shrink(skimage.data.coffee())
    smooth = cv2.GaussianBlur(small, (0, 0), 1.0)
    margin = max(2, round(cutout._PRIOR_MARGIN * min(small.shape[:2])))
    contrast = cutout._border_contrast(smooth, margin)
    found = cutout._prior_grabcut(small, margin)
    mask = cutout._fill_holes(cutout._main_components(cutout._tidy(found)), contrast, cutout._MIN_DISTINCT)
    cutout._check_clear(small, smooth, found, mask, contrast, margin)
    moved = np.roll(mask, 20, axis=1)
    assert cutout._edge_strength(smooth, moved, margin) < cutout._MIN_EDGE < cutout._edge_strength(smooth, mask, margin)
    with pytest.raises(ProductUnclear):
        cutout._check_clear(small, smooth, moved, moved, contrast, margin)


def test_a_product_that_clutter_joins_is_unclear():
    """A small blue oval before the shelves of scikit-image's stereo motorcycle photo: GrabCut from
    the frame takes the shelves' boxes with it, and from a narrower frame finds something else."""
    image, _ = _on_busy_photo(skimage.data.stereo_motorcycle()[0][:200, 450:741], axes=(60, 80))
    small = cutout._shrink(np.asarray(image))
    assert not cutout._agrees(
        small, cutout._prior_grabcut(small, max(2, round(cutout._PRIOR_MARGIN * min(small.shape[:2]))))
    )
    with pytest.raises(ProductUnclear):
        cut_out(image)


def test_scattered_spots_on_a_busy_background_are_unclear():
    # A dozen blue spots over the garage of scikit-image's motorcycle photo: no one product.
    pixels = cv2.resize(skimage.data.stereo_motorcycle()[0][:250, :400], (360, 450), interpolation=cv2.INTER_AREA)
    for row in range(4):
        for col in range(3):
            cv2.circle(pixels, (90 + col * 90, 90 + row * 90), 16, (40, 90, 200), -1)
    with pytest.raises(ProductUnclear):
        cut_out(Image.fromarray(pixels))


def test_a_brick_walls_border_is_no_plain_backdrop_though_its_bricks_fit_closely():
    # The trimmed fit follows the bricks (sigma near 1); the mortar, a sixth of the ring, does not fit.
    smooth = cv2.GaussianBlur(cutout._shrink(np.repeat(skimage.data.brick()[..., None], 3, axis=2)), (0, 0), 1.0)
    model = cutout.fit_background(smooth)
    assert model.sigma <= cutout._MAX_BACKDROP_SIGMA
    assert not cutout._plain_backdrop(smooth, model)


def test_a_patterned_wall_is_not_a_product():
    # scikit-image's brick photo: a wall whose bricks fit a backdrop along the border, its mortar
    # not; the mortar is no product, and the wall is refused either way.
    with pytest.raises((ProductUnclear, NoProductFound)):
        cut_out(Image.fromarray(np.repeat(skimage.data.brick()[..., None], 3, axis=2)))
