"""Decoding and validating a seller's upload.

Checks run cheapest and safest first: empty input, the byte limit (before parsing anything),
file types recognisable from their first bytes that Pillow cannot name (SVG, PDF, video), then the
header (format, pixel count, minimum side, animation) and only then the pixels themselves.
"""

import io

import numpy as np
import pillow_heif
from PIL import Image, ImageOps

from shopshot.config import LimitSettings
from shopshot.errors import FileTooLarge, ImageTooLarge, ImageTooSmall, UnreadableImage, UnsupportedFormat

pillow_heif.register_heif_opener()

# Pillow format names we take. MPO is what Pillow calls a camera JPEG with extra frames.
ALLOWED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "HEIF"})
# Short human names for formats Pillow can open but we do not take; others use Pillow's name.
_FORMAT_NAMES = {"DIB": "BMP", "MPEG": "video", "JPEG2000": "JPEG 2000"}
# ISO base media brands that are still images (Pillow/pillow-heif open these); others are video.
_IMAGE_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis")
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, RuntimeError)


def load_image(data: bytes, limits: LimitSettings) -> Image.Image:
    """Decode and validate a seller's upload; return an RGB image with EXIF orientation applied and no metadata."""
    if not data:
        raise UnreadableImage()
    _check_bytes(data, limits)
    _reject_by_signature(data)
    image = _open(data)
    _check_header(image, limits)
    _decode(image)
    return _plain_rgb(ImageOps.exif_transpose(image))


def _check_bytes(data: bytes, limits: LimitSettings) -> None:
    limit = limits.max_file_mb * 1024 * 1024
    if len(data) > limit:
        raise FileTooLarge(size_mb=round(len(data) / 1024 / 1024, 1), limit_mb=limits.max_file_mb)


def _reject_by_signature(data: bytes) -> None:
    """Name the non-image files sellers actually send, which Pillow would call unreadable."""
    head = data[:1024].lstrip().lower()
    if data.startswith(b"%PDF"):
        raise UnsupportedFormat(kind="PDF")
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        raise UnsupportedFormat(kind="SVG")
    is_iso_media = data[4:8] == b"ftyp" and data[8:12] not in _IMAGE_BRANDS
    is_matroska = data.startswith(b"\x1a\x45\xdf\xa3")
    is_avi = data.startswith(b"RIFF") and data[8:12] == b"AVI "
    if is_iso_media or is_matroska or is_avi:
        raise UnsupportedFormat(kind="video")


def _open(data: bytes) -> Image.Image:
    """Read the header only (Pillow is lazy); pixels are decoded after the checks."""
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        return _open_past_bomb_check(data)
    except _DECODE_ERRORS:
        raise UnreadableImage() from None


def _open_past_bomb_check(data: bytes) -> Image.Image:
    """Read a header Pillow refused as a decompression bomb, so the usual checks can name its size.

    Pillow's own check fires inside `Image.open` at twice its pixel limit, before it returns the
    size; the plugins it registers can still read the header without decoding anything.
    """
    for name in Image.ID:
        factory, accept = Image.OPEN[name]
        verdict = accept(data[:16]) if accept else True
        if not verdict or isinstance(verdict, str):
            continue
        try:
            return factory(io.BytesIO(data), "")
        except _DECODE_ERRORS:
            continue
    raise UnreadableImage()


def _check_header(image: Image.Image, limits: LimitSettings) -> None:
    if image.format not in ALLOWED_FORMATS:
        raise UnsupportedFormat(kind=_FORMAT_NAMES.get(image.format or "", image.format or "unknown"))
    width, height = image.size
    if width * height > limits.max_megapixels * 1_000_000:
        raise ImageTooLarge(width=width, height=height, limit_mp=limits.max_megapixels)
    if min(width, height) < limits.min_side:
        raise ImageTooSmall(width=width, height=height, min_side=limits.min_side)
    if image.format in ("WEBP", "PNG") and getattr(image, "n_frames", 1) > 1:
        raise UnsupportedFormat(kind="animated WebP" if image.format == "WEBP" else "animated PNG")


def _decode(image: Image.Image) -> None:
    """Decode the pixels; truncated or corrupt data fails here (truncated images are not padded)."""
    try:
        image.load()
    except _DECODE_ERRORS:
        raise UnreadableImage() from None


def _plain_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB with transparency flattened onto white, as a fresh image with no metadata."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # Pillow clips 16-bit values to 255 when converting; scale them down instead.
        image = Image.fromarray((np.asarray(image).astype(np.uint32) >> 8).clip(0, 255).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    rgb = image.convert("RGB")
    return Image.frombytes("RGB", rgb.size, rgb.tobytes())
