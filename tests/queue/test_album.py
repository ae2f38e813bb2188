"""The album's JPEG of a result: within sendPhoto's limits whatever the render's size, detail or frame."""

import io
import os

import pytest
from PIL import Image

from shopshot.queue.album import LONGEST_SIDE, MAX_PHOTO_BYTES, MAX_RATIO, album_photo


def _decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _fits_a_photo(data: bytes) -> bool:
    width, height = _decoded(data).size
    return (
        len(data) <= MAX_PHOTO_BYTES
        and width + height <= 10_000
        and max(width, height) <= MAX_RATIO * min(width, height)
    )


@pytest.mark.parametrize(("size", "expected"), [((4058, 7214), (1440, 2560)), ((1200, 1500), (1200, 1500))])
def test_a_render_is_downscaled_to_telegrams_largest_photo_size_and_never_enlarged(size, expected):
    # 4058×7214: a 12-MP landscape photo sent as a file, rendered at 9:16.
    photo = _decoded(album_photo(Image.new("RGB", size, (230, 225, 215))))

    assert (photo.format, photo.size) == ("JPEG", expected)


def test_a_frame_longer_than_20_to_1_gets_white_margins():
    # A model photo keeps the seller's frame, and intake takes a 300×9000 strip.
    data = album_photo(Image.new("RGB", (300, 9000), "navy"))

    photo = _decoded(data)
    assert _fits_a_photo(data) and photo.height == LONGEST_SIDE
    assert photo.getpixel((0, 0)) == (255, 255, 255) and photo.getpixel((photo.width // 2, 0)) != (255, 255, 255)


def test_a_picture_too_detailed_for_10_mb_is_made_smaller_until_it_fits():
    # Noise is the worst case for JPEG: at 2560×2560 and quality 92 it encodes to about 12.7 MB.
    noise = Image.frombytes("RGB", (LONGEST_SIDE, LONGEST_SIDE), os.urandom(LONGEST_SIDE * LONGEST_SIDE * 3))

    data = album_photo(noise)

    assert _fits_a_photo(data) and max(_decoded(data).size) < LONGEST_SIDE


def test_transparent_and_grey_renders_become_rgb_jpegs():
    for image in (Image.new("RGBA", (640, 480), (0, 0, 0, 0)), Image.new("L", (640, 480), 128)):
        assert _decoded(album_photo(image)).mode == "RGB"
