"""The album's JPEG of a result: a copy Telegram takes as a photo; the full-resolution PNG goes as a file.

sendPhoto takes at most 10 MB, width + height at most 10,000 and sides at most 20:1. Telegram keeps
photos at 2560 px on the longest side at most, so a larger album photo would only be a slower
upload; at that size width + height stays far below the limit.
"""

import io

from PIL import Image

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_RATIO = 20
LONGEST_SIDE = 2560
QUALITY = 92
SHRINK = 0.8  # each further step while a very detailed picture still encodes over MAX_PHOTO_BYTES


def album_photo(image: Image.Image) -> bytes:
    """Encode a result for the album: downscaled (Lanczos) to Telegram's largest photo size, within sendPhoto's limits."""
    image = image.convert("RGB")
    scale = min(1.0, LONGEST_SIDE / max(image.size))
    while True:
        data = _jpeg(_within_ratio(_resized(image, scale)))
        if len(data) <= MAX_PHOTO_BYTES:
            return data
        scale *= SHRINK


def _resized(image: Image.Image, scale: float) -> Image.Image:
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)


def _within_ratio(image: Image.Image) -> Image.Image:
    # Telegram takes no photo longer than 20:1 (a model photo keeps the seller's frame): white margins make it fit.
    width, height = image.size
    if max(width, height) <= MAX_RATIO * min(width, height):
        return image
    framed = (width, -(-width // MAX_RATIO)) if width > height else (-(-height // MAX_RATIO), height)
    canvas = Image.new("RGB", framed, "white")
    canvas.paste(image, ((framed[0] - width) // 2, (framed[1] - height) // 2))
    return canvas


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=QUALITY, subsampling=0)
    return buffer.getvalue()
