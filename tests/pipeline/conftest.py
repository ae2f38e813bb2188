import io

import cv2
import numpy as np
import pytest
from PIL import Image

from shopshot.config import LimitSettings
from shopshot.pipeline.gallery import sample_product
from shopshot.pipeline.layout import scaled
from shopshot.pipeline.matte import product_cutout


def encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def quadrants(size: tuple[int, int] = (320, 400)) -> Image.Image:
    """An image that looks different under every flip and rotation: four coloured quadrants."""
    width, height = size
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[: height // 2, : width // 2] = (220, 30, 30)
    pixels[: height // 2, width // 2 :] = (30, 200, 40)
    pixels[height // 2 :, : width // 2] = (30, 40, 210)
    pixels[height // 2 :, width // 2 :] = (240, 220, 20)
    return Image.fromarray(pixels)


@pytest.fixture
def limits() -> LimitSettings:
    return LimitSettings()


@pytest.fixture(scope="session")
def small_sample() -> Image.Image:
    """The bundled mug photo at 360×450: big enough to be real, small enough to render fast."""
    return sample_product().resize((360, 450), Image.Resampling.LANCZOS)


@pytest.fixture(scope="session")
def large_sample() -> Image.Image:
    """The bundled mug photo enlarged to 2400×3000: a product whose own pixels fill every format's target."""
    return sample_product().resize((2400, 3000), Image.Resampling.LANCZOS)


def assert_product_kept(result, source: Image.Image) -> None:
    """The exact-pixel promise: inside `protect` the photo byte for byte at scale 1; at another scale
    its product box resampled, which brought back to the photo's size matches the photo closely."""
    protect = np.asarray(result.protect) == 255
    output, photo = np.asarray(result.image), np.asarray(source)
    left, top = result.offset
    if result.scale == 1:
        ys, xs = np.nonzero(protect)
        assert len(ys) > 1000 and np.array_equal(output[ys, xs], photo[ys - top, xs - left])
        return
    cutout = product_cutout(source)  # the cut-out the backends use, see-through parts and all
    x0, y0, x1, y1 = cutout.box
    width, height = scaled((x1 - x0, y1 - y0), result.scale)
    assert abs(protect.sum() / (cutout.protect.sum() * result.scale**2) - 1) < 0.05  # all of the product, enlarged
    back = Image.fromarray(output[top : top + height, left : left + width]).resize(
        (x1 - x0, y1 - y0), Image.Resampling.LANCZOS
    )
    core = cv2.erode(cutout.protect.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # clear of the matted edge
    error = np.abs(np.asarray(back, np.int16) - photo[y0:y1, x0:x1])[core]
    # A Lanczos round trip of the 160×200 mug's speckles: mean 1.0, 99th percentile 12. The same
    # photo shifted one pixel: 11 and 115; blurred (sigma 1): 6 and 63.
    assert core.sum() > 1000 and error.mean() < 1.5 and np.percentile(error, 99) < 16
