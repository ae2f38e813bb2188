"""Small pictures made in memory for the stand-in tests."""

import io

from PIL import Image


def picture(width: int, height: int, image_format: str = "JPEG", color: str = "tomato") -> bytes:
    """An image of that size with a diagonal stripe, so that recompression changes its bytes."""
    image = Image.new("RGB", (width, height), color)
    for x in range(min(width, height)):
        image.putpixel((x, x), (20, 40, 200))
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()


def size_of(data: bytes) -> tuple[int, int]:
    """Width and height of encoded image bytes."""
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def format_of(data: bytes) -> str | None:
    """Pillow's name for the format of encoded image bytes."""
    with Image.open(io.BytesIO(data)) as image:
        return image.format
