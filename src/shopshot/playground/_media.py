"""Files as Telegram stores them: photos recompressed into a JPEG size array, documents untouched."""

import io
import mimetypes
from pathlib import PurePosixPath

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from shopshot.playground._state import State, StoredFile, bad_request

# Telegram's photo sizes "s", "m", "x" and "y": the longest side of each rendition.
PHOTO_SIDES = (90, 320, 800, 1280)
JPEG_QUALITY = 87
_MAX_SIDES_SUM = 10_000
_MAX_RATIO = 20
MAX_PHOTO_BYTES = 10 * 1024 * 1024
# Bots upload other files up to 50 MB; past it Telegram's front server refuses the whole request.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def store_photo(state: State, renditions: list[tuple[bytes, int, int]]) -> list[dict]:
    """Store each rendition under its own file_id; return the PhotoSize array, smallest first."""
    files = [state.add_file("photo", data, "jpg", {"width": w, "height": h}) for data, w, h in renditions]
    sizes = [stored.as_api() for stored in files]
    for stored in files:
        stored.sizes = sizes
    return sizes


def store_document(state: State, data: bytes, file_name: str | None, mime_type: str | None) -> StoredFile:
    """Keep the bytes as sent, described by name and MIME type."""
    if not data:
        raise bad_request("file must be non-empty")
    fields: dict = {}
    if file_name:
        fields["file_name"] = file_name
    fields["mime_type"] = mime_type or _guess_type(file_name)
    extension = PurePosixPath(file_name or "").suffix.lstrip(".").lower() or "bin"
    return state.add_file("document", data, extension, fields)


def renditions(data: bytes) -> list[tuple[bytes, int, int]]:
    """Recompressed JPEGs with the longest side at each of PHOTO_SIDES, capped at the original."""
    image = _decode(data)
    longest = max(image.size)
    sides = sorted({min(side, longest) for side in PHOTO_SIDES})
    return [_jpeg(image, side / longest) for side in sides]


def _decode(data: bytes) -> Image.Image:
    if not data:
        raise bad_request("file must be non-empty")
    if len(data) > MAX_PHOTO_BYTES:
        # Telegram takes photos up to 10 MB (larger pictures go as documents), checked before decoding.
        raise bad_request(
            f"file of size {len(data)} bytes is too big for a photo; the maximum size is {MAX_PHOTO_BYTES} bytes"
        )
    image = _open(data)
    width, height = image.size
    if width + height > _MAX_SIDES_SUM or max(width, height) > _MAX_RATIO * min(width, height):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    try:
        image = ImageOps.exif_transpose(image)
        return _flatten(image)
    except (OSError, ValueError, SyntaxError):
        raise bad_request("IMAGE_PROCESS_FAILED") from None


def _open(data: bytes) -> Image.Image:
    # HEIC is opened explicitly rather than by registering a Pillow plugin for the whole process.
    if pillow_heif.is_supported(data):
        try:
            return pillow_heif.open_heif(data).to_pillow()
        except (OSError, ValueError, RuntimeError):
            raise bad_request("IMAGE_PROCESS_FAILED") from None
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise bad_request("PHOTO_INVALID_DIMENSIONS") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise bad_request("IMAGE_PROCESS_FAILED") from None


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white, as transparent pictures look once Telegram has made them JPEG."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg(image: Image.Image, scale: float) -> tuple[bytes, int, int]:
    width, height = (max(1, round(side * scale)) for side in image.size)
    resized = image if (width, height) == image.size else image.resize((width, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    resized.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue(), width, height


def _guess_type(file_name: str | None) -> str:
    guessed = mimetypes.guess_type(file_name or "")[0]
    return guessed or "application/octet-stream"
