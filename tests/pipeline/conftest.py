import io

import numpy as np
import pytest
from PIL import Image

from shopshot.config import LimitSettings
from shopshot.pipeline.gallery import sample_product


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
