"""The picture a seller picks products on: each candidate outlined in its own colour, numbered, clear of the product."""

import numpy as np
from PIL import Image, ImageDraw

from shopshot.pipeline.candidates_sheet import COLOURS, MIN_SIDE, badge_centre, badge_radius, render_candidates
from shopshot.pipeline.matte import Candidate, product_candidates

RED, BLUE = (200, 40, 40), (30, 70, 190)


def _two_products(size: tuple[int, int] = (640, 480)) -> Image.Image:
    photo = Image.new("RGB", size, (236, 234, 230))
    draw = ImageDraw.Draw(photo)
    width, height = size
    draw.ellipse((0.12 * width, 0.3 * height, 0.4 * width, 0.72 * height), fill=RED)
    draw.rectangle((0.58 * width, 0.25 * height, 0.87 * width, 0.78 * height), fill=BLUE)
    return photo


def _near(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int = 10) -> np.ndarray:
    return (np.abs(pixels.astype(int) - colour) <= tolerance).all(axis=-1)


def test_each_candidate_is_outlined_in_its_colour_around_its_box_and_the_products_stay_whole():
    photo = _two_products()
    candidates = product_candidates(photo)
    assert len(candidates) == 2
    sheet = np.asarray(render_candidates(photo, candidates))
    assert sheet.shape[:2] == (480, 640)
    for candidate, colour in zip(candidates, COLOURS):
        x0, y0, x1, y1 = (round(share * side) for share, side in zip(candidate.box, (640, 480, 640, 480)))
        ys, xs = np.nonzero(_near(sheet, colour))
        assert len(ys) > 500
        # The outline surrounds the box, never crosses into it (the badge aside, at its top-left corner).
        outside = (xs < x0) | (xs >= x1) | (ys < y0) | (ys >= y1)
        assert outside.mean() > 0.9 and xs.min() < x0 and xs.max() >= x1 and ys.max() >= y1
    assert np.array_equal(sheet[240, 180], RED) and np.array_equal(
        sheet[250, 465], BLUE
    )  # the products themselves, as they were
    assert sheet[10, 320][0] < 236 * 0.6  # the rest of the photo dimmed


def test_a_small_preview_is_enlarged_and_badges_stay_inside_the_picture():
    candidates = (Candidate((0.0, 0.0, 0.3, 0.4), 0.1), Candidate((0.6, 0.5, 1.0, 1.0), 0.2))
    sheet = render_candidates(_two_products((240, 180)), candidates)
    assert max(sheet.size) == MIN_SIDE
    radius = badge_radius(sheet.size)
    for box in ((0, 0, 192, 192), (384, 240, 640, 480)):
        x, y = badge_centre(box, sheet.size)
        assert radius <= x <= sheet.width - radius and radius <= y <= sheet.height - radius
    assert radius * 2 >= max(sheet.size) / 10  # a number a tenth of the picture across: legible on a phone
