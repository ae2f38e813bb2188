"""Decoding and validating a seller's upload.

Checks run cheapest and safest first: what the sender declared (size, type) before downloading,
then empty input, the byte limit (before parsing anything), file types recognisable from their
first bytes that Pillow cannot name (SVG, PDF, video; a PDF with bytes before its header is named
once Pillow cannot read it), then the header (pixel count, minimum side,
animation, format) and only then the pixels themselves.
"""

import io
import math
import mimetypes
import re
import struct
from pathlib import PurePosixPath

import numpy as np
import pillow_heif
from PIL import ExifTags, Image, ImageOps

from shopshot.config import LimitSettings
from shopshot.errors import (
    AnimatedImage,
    AudioNotPhoto,
    FileTooLarge,
    ImageTooLarge,
    ImageTooSmall,
    UnreadableImage,
    UnsupportedFormat,
    VideoNotPhoto,
)

pillow_heif.register_heif_opener()

# Pillow format names we take. MPO is what Pillow calls a camera JPEG with extra frames.
ALLOWED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "HEIF"})
# Short human names for formats Pillow can open but we do not take; others use Pillow's name.
_FORMAT_NAMES = {"DIB": "BMP", "JPEG2000": "JPEG 2000"}
# ISO base media brands that are still images (Pillow/pillow-heif open these); others are video.
_IMAGE_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis")
# What Pillow's plugins raise on broken data (struct.error, IndexError and TypeError are what Pillow
# itself catches when probing formats). A bomb error past `_open` is a frame larger than the image's
# own header says: broken, not just big.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    RuntimeError,
    struct.error,
    IndexError,
    TypeError,
    Image.DecompressionBombError,
)
# Byte-order marks an SVG may start with; UTF-16 SVGs are read as ASCII for the sniffing.
_TEXT_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
# What may stand before the root element of an XML file: a declaration, comments, processing
# instructions and a doctype, with whitespace between.
_SVG_START = re.compile(
    rb"\s*(?:(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)\s*)*<svg[\s>/:]", re.IGNORECASE | re.DOTALL
)
# EXIF orientations that turn the picture a quarter, swapping its width and height.
_TURNING_ORIENTATIONS = (5, 6, 7, 8)
# Formats in which Pillow can tell an animation from a still picture by the header.
_ANIMATED_FORMATS = ("GIF", "PNG", "WEBP")
STORED_QUALITY = 95
_LOSSLESS_FORMATS = ("PNG", "BMP", "TIFF", "GIF")


def check_declared(size: int | None, mime_type: str | None, file_name: str | None, limits: LimitSettings) -> None:
    """Refuse a file by the size and type its sender declared, before downloading it; image types are sniffed later."""
    if size == 0:
        raise UnreadableImage()
    if size:
        _check_size(size, limits)
    family = (mime_type or "").partition("/")[0]
    if family == "video":
        raise VideoNotPhoto()
    if family == "audio":
        raise AudioNotPhoto()
    if family not in ("", "image") and mime_type != "application/octet-stream":
        assert mime_type is not None  # a family other than "" came from it
        raise UnsupportedFormat(kind=_declared_kind(mime_type, file_name))


def _declared_kind(mime_type: str, file_name: str | None) -> str:
    # "DOCX" reads better than "VND.OPENXMLFORMATS-OFFICEDOCUMENT.WORDPROCESSINGML.DOCUMENT".
    extension = PurePosixPath(file_name or "").suffix or mimetypes.guess_extension(mime_type) or ""
    return extension.lstrip(".").upper() or mime_type


def load_image(data: bytes, limits: LimitSettings) -> Image.Image:
    """Decode and validate a seller's upload; return an RGB image with EXIF orientation applied and no metadata."""
    image = _checked_header(data, limits)
    _decode(image)
    ImageOps.exif_transpose(image, in_place=True)
    return _plain_rgb(image)


def stored_copy(data: bytes, limits: LimitSettings) -> bytes:
    """The copy of an upload that is kept instead of it: checked and decoded as by `load_image`, then re-encoded.

    Upright and without metadata (no GPS position of the seller's home leaves with it). A lossless
    upload (a PNG logo, a screenshot) stays lossless as a PNG; a photo becomes a JPEG at quality 95 with
    full-resolution colour, so the renders lose nothing visible, and a 20 MB upload's copy is usually smaller.
    """
    image = load_image(data, limits)
    buffer = io.BytesIO()
    if _open(data).format in _LOSSLESS_FORMATS:
        image.save(buffer, "PNG", compress_level=6)
    else:
        image.save(buffer, "JPEG", quality=STORED_QUALITY, subsampling=0)
    return buffer.getvalue()


def load_preview(data: bytes, limits: LimitSettings, side: int) -> tuple[Image.Image, tuple[int, int]]:
    """Validate an upload as `load_image` does; return an upright RGB copy at most `side` pixels long and the photo's upright size.

    A JPEG is decoded at the smallest of libjpeg's scales (1/2 to 1/8) that still covers `side`.
    """
    image = _checked_header(data, limits)
    width, height = image.size
    fraction = min(1.0, side / max(width, height))
    if image.format in ("JPEG", "MPO"):
        # libjpeg decodes at a fraction of the size yet reads every byte, so truncated data still fails.
        image.draft(image.mode, (math.ceil(width * fraction), math.ceil(height * fraction)))
    _decode(image)
    turned = image.getexif().get(ExifTags.Base.Orientation) in _TURNING_ORIENTATIONS
    ImageOps.exif_transpose(image, in_place=True)
    preview = _plain_rgb(image)
    image.close()
    preview.thumbnail((side, side), Image.Resampling.LANCZOS)
    return preview, (height, width) if turned else (width, height)


def _checked_header(data: bytes, limits: LimitSettings) -> Image.Image:
    """The upload opened lazily, past every check that needs no pixels."""
    if not data:
        raise UnreadableImage()
    _check_size(len(data), limits)
    _reject_by_signature(data)
    image = _open(data)
    _check_header(image, limits)
    return image


def _check_size(size: int, limits: LimitSettings) -> None:
    if size > limits.max_file_mb * 1024 * 1024:
        raise FileTooLarge(size_mb=round(size / 1024 / 1024, 1), limit_mb=limits.max_file_mb)


def _reject_by_signature(data: bytes) -> None:
    """Name the non-image files sellers actually send, which Pillow would call unreadable."""
    if data.startswith(b"%PDF"):
        raise UnsupportedFormat(kind="PDF")
    if _is_svg(data[:1024]):
        raise UnsupportedFormat(kind="SVG")
    is_iso_media = data[4:8] == b"ftyp" and data[8:12] not in _IMAGE_BRANDS
    is_matroska = data.startswith(b"\x1a\x45\xdf\xa3")
    is_avi = data.startswith(b"RIFF") and data[8:12] == b"AVI "
    is_mpeg = data.startswith((b"\x00\x00\x01\xb3", b"\x00\x00\x01\xba"))  # sequence or pack header
    if is_iso_media or is_matroska or is_avi or is_mpeg:
        raise VideoNotPhoto()


def _is_svg(head: bytes) -> bool:
    """Whether a file starts as SVG: `<svg` after a BOM, whitespace, an XML declaration, comments or a doctype."""
    for bom, encoding in _TEXT_BOMS:
        if head.startswith(bom):
            head = head[len(bom) :].decode(encoding, "ignore").encode("ascii", "ignore")
            break
    return _SVG_START.match(head) is not None


def _open(data: bytes) -> Image.Image:
    """Read the header only (Pillow is lazy); pixels are decoded after the checks."""
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        return _open_past_bomb_check(data)
    except _DECODE_ERRORS:
        # PDF readers find the header anywhere in the first 1024 bytes, after a BOM or stray text.
        if b"%PDF-" in data[:1024]:
            raise UnsupportedFormat(kind="PDF") from None
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
    width, height = image.size
    if width * height > limits.max_megapixels * 1_000_000:
        raise ImageTooLarge(width=width, height=height, limit_mp=limits.max_megapixels)
    if min(width, height) < limits.min_side:
        raise ImageTooSmall(width=width, height=height, min_side=limits.min_side)
    if _is_animated(image):
        raise AnimatedImage(kind=image.format)
    if image.format not in ALLOWED_FORMATS:
        raise UnsupportedFormat(kind=_FORMAT_NAMES.get(image.format or "", image.format or "unknown"))


def _is_animated(image: Image.Image) -> bool:
    """Whether a GIF, PNG or WebP has more than one frame; GIF frames are skipped over, not decoded."""
    if image.format not in _ANIMATED_FORMATS:
        return False
    try:
        return bool(getattr(image, "is_animated", False))
    except _DECODE_ERRORS:
        raise UnreadableImage() from None


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
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    fresh = Image.new("RGB", rgb.size)
    fresh.paste(rgb)  # one copy of the pixels, without the file's metadata
    return fresh
