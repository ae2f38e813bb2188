"""The candidates the seller chooses from (`matte.product_candidates`) and the cut-out a choice gives."""

import cv2
import numpy as np
import pytest
import skimage.data
from PIL import Image

from fixtures.synthetic import synthetic_photo
from shopshot.pipeline.matte import product_candidates, product_cutout

# Synthetic photo 5 is a pair of round items side by side on a plain backdrop.
PAIR = 5


def _box_iou(a, b) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _preview(image: Image.Image, side: int = 640) -> Image.Image:
    """The photo as the bot sees it at intake: shrunk with Lanczos to at most `side` pixels."""
    preview = image.copy()
    preview.thumbnail((side, side), Image.Resampling.LANCZOS)
    return preview


def test_two_separate_products_are_two_candidates_left_to_right():
    photo = synthetic_photo(PAIR)
    left, right = product_candidates(photo.image)
    assert left.box[2] <= right.box[0]  # side by side, not overlapping
    assert 0.03 < left.share < 0.3 and 0.03 < right.share < 0.3
    assert product_candidates(photo.image) == (left, right)  # the same photo, the same candidates


def test_keeping_one_candidate_cuts_out_that_one_alone():
    photo = synthetic_photo(PAIR)
    left, right = product_candidates(photo.image)
    width, height = photo.image.size
    kept = product_cutout(photo.image, keep=(right.box,))
    x0, y0, x1, y1 = kept.box
    assert x0 / width >= left.box[2] and _box_iou((x0 / width, y0 / height, x1 / width, y1 / height), right.box) > 0.9
    both = product_cutout(photo.image, keep=(left.box, right.box))
    assert both.box == product_cutout(photo.image).box


@pytest.mark.parametrize("name", ["pair", "coffee"])
def test_candidates_on_the_preview_match_those_on_the_full_photo(name):
    # The bot finds candidates on its preview, the worker cuts the full photo with the kept boxes.
    # The pair drawn at 1500×1875; scikit-image's coffee photo at its own 600×400 against a 320-px preview.
    image = synthetic_photo(PAIR, size=(1500, 1875)).image if name == "pair" else Image.fromarray(skimage.data.coffee())
    full, preview = product_candidates(image), product_candidates(_preview(image, 640 if name == "pair" else 320))
    assert len(full) == len(preview) >= 1
    assert all(_box_iou(a.box, b.box) > 0.9 for a, b in zip(full, preview))


def test_the_coffee_photos_cup_saucer_and_spoon_are_one_candidate():
    """scikit-image's coffee photo: cup, saucer and spoon touch, so they are one object to keep."""
    image = Image.fromarray(skimage.data.coffee())
    [candidate] = product_candidates(image)
    cutout = product_cutout(image)
    width, height = image.size
    x0, y0, x1, y1 = cutout.box
    assert _box_iou(candidate.box, (x0 / width, y0 / height, x1 / width, y1 / height)) > 0.95
    assert 0.4 < candidate.share < 0.55


def test_two_products_on_a_busy_background_are_two_candidates_at_any_size():
    # A blue oval and a yellow box drawn over the garage of scikit-image's stereo motorcycle photo,
    # enlarged to 1350×1080 as a full photo, and seen on the bot's 320-px preview.
    pixels = cv2.resize(skimage.data.stereo_motorcycle()[0][:250, :400], (450, 360), interpolation=cv2.INTER_AREA)
    cv2.ellipse(pixels, (120, 190), (70, 100), 0, 0, 360, (40, 90, 200), -1)
    cv2.rectangle(pixels, (260, 110), (380, 290), (230, 200, 40), -1)
    full = Image.fromarray(pixels).resize((1350, 1080), Image.Resampling.LANCZOS)
    oval, box = product_candidates(full)
    assert _box_iou(oval.box, (50 / 450, 90 / 360, 190 / 450, 290 / 360)) > 0.9
    assert _box_iou(box.box, (260 / 450, 110 / 360, 381 / 450, 291 / 360)) > 0.9
    seen = product_candidates(_preview(full, 320))
    assert len(seen) == 2 and all(_box_iou(a.box, b.box) > 0.9 for a, b in zip((oval, box), seen))


def test_a_set_of_many_small_items_on_a_plain_backdrop_is_kept_whole_and_offered_item_by_item():
    # Eight beads of one set (drawn) laid out on a light sweep: many parts, every one a product.
    pixels = np.full((750, 600, 3), 228, np.uint8)
    for index in range(8):
        cv2.circle(pixels, (90 + (index % 4) * 140, 280 + (index // 4) * 190), 34, (150, 40 + 20 * index, 60), -1)
    image = Image.fromarray(pixels)
    candidates = product_candidates(image)
    assert len(candidates) == 8 and [c.box[0] for c in candidates] == sorted(c.box[0] for c in candidates)
    x0, y0, x1, y1 = product_cutout(image).box
    assert x0 < 60 and x1 > 540 and y0 < 250 and y1 > 500
