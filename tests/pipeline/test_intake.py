import io
import struct
import zlib

import numpy as np
import pillow_heif
import pytest
from PIL import ExifTags, Image

from shopshot.config import LimitSettings
from shopshot.errors import FileTooLarge, ImageTooLarge, ImageTooSmall, UnreadableImage, UnsupportedFormat
from shopshot.pipeline.intake import load_image
from tests.pipeline.conftest import encode, quadrants


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header, with almost no pixel data behind it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_jpeg_loads_as_rgb_of_the_same_size(limits):
    image = load_image(encode(quadrants(), "JPEG", quality=95), limits)
    assert (image.mode, image.size) == ("RGB", (320, 400))


@pytest.mark.parametrize("data", [b"", np.random.default_rng(1).bytes(4096)], ids=["empty", "random"])
def test_unreadable_bytes(data, limits):
    with pytest.raises(UnreadableImage):
        load_image(data, limits)


def test_truncated_jpeg_is_unreadable(limits):
    noise = Image.fromarray(np.random.default_rng(2).integers(0, 255, (400, 400, 3), np.uint8))
    data = encode(noise, "JPEG", quality=90)
    with pytest.raises(UnreadableImage):
        load_image(data[: len(data) * 6 // 10], limits)


@pytest.mark.parametrize(("format", "kind"), [("GIF", "GIF"), ("BMP", "BMP"), ("TIFF", "TIFF")])
def test_other_image_formats_are_named(format, kind, limits):
    with pytest.raises(UnsupportedFormat) as caught:
        load_image(encode(quadrants(), format), limits)
    assert caught.value.params == {"kind": kind}


def test_animated_webp_is_refused(limits):
    frames = [Image.new("RGB", (300, 300), colour) for colour in ("red", "blue")]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(UnsupportedFormat) as caught:
        load_image(data, limits)
    assert caught.value.params == {"kind": "animated WebP"}


def test_still_webp_loads(limits):
    assert load_image(encode(quadrants(), "WEBP", quality=90), limits).size == (320, 400)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"/>', "SVG"),
        (b"  <svg viewBox='0 0 10 10'><rect width='10' height='10'/></svg>", "SVG"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "PDF"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64, "video"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + b"\x00" * 64, "video"),
    ],
    ids=["svg-xml", "svg", "pdf", "mp4", "webm"],
)
def test_non_images_are_named(data, kind, limits):
    with pytest.raises(UnsupportedFormat) as caught:
        load_image(data, limits)
    assert caught.value.params == {"kind": kind}


def test_long_thin_png_is_too_small(limits):
    with pytest.raises(ImageTooSmall) as caught:
        load_image(encode(Image.new("L", (50000, 10)), "PNG"), limits)
    assert caught.value.params == {"width": 50000, "height": 10, "min_side": 256}


def test_tiny_image_is_too_small(limits):
    with pytest.raises(ImageTooSmall):
        load_image(encode(Image.new("RGB", (10, 10)), "PNG"), limits)


def test_decompression_bomb_is_too_large(limits):
    with pytest.raises(ImageTooLarge) as caught:
        load_image(_png_header_only(100_000, 100_000), limits)
    assert caught.value.params == {"width": 100_000, "height": 100_000, "limit_mp": 40}


def test_pixel_limit_is_checked_from_the_header_before_decoding(limits):
    # 64 MP is under Pillow's own bomb limit but over ours; the pixel data is missing, so a
    # decode before the check would have failed as unreadable instead.
    with pytest.raises(ImageTooLarge):
        load_image(_png_header_only(8000, 8000), limits)


def test_file_over_the_byte_limit():
    noise = Image.fromarray(np.random.default_rng(3).integers(0, 255, (800, 800, 3), np.uint8))
    data = encode(noise, "PNG")
    with pytest.raises(FileTooLarge) as caught:
        load_image(data, LimitSettings(max_file_mb=1))
    assert caught.value.params["limit_mb"] == 1
    assert caught.value.params["size_mb"] > 1


def test_cmyk_jpeg_becomes_rgb(limits):
    cmyk = Image.new("CMYK", (300, 300), (0, 255, 255, 0))  # pure red ink
    image = load_image(encode(cmyk, "JPEG", quality=95), limits)
    red, green, blue = image.getpixel((150, 150))
    assert image.mode == "RGB" and red > 200 and green < 60 and blue < 60


def test_16_bit_png_is_scaled_not_clipped(limits):
    grey = Image.fromarray(np.full((300, 300), 30000, np.uint16))
    image = load_image(encode(grey, "PNG"), limits)
    assert image.getpixel((10, 10)) == (117, 117, 117)


def test_palette_transparency_is_flattened_onto_white(limits):
    palette = Image.new("P", (300, 300), 0)
    palette.putpalette([0, 0, 0, 200, 20, 20] + [0] * 762)
    palette.paste(1, (0, 0, 150, 300))
    image = load_image(encode(palette, "PNG", transparency=0), limits)
    assert image.getpixel((50, 50)) == (200, 20, 20)
    assert image.getpixel((250, 50)) == (255, 255, 255)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_composited_onto_white(mode, limits):
    layer = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    layer.paste((0, 0, 0, 255), (0, 0, 100, 300))
    layer.paste((0, 0, 0, 128), (100, 0, 200, 300))
    image = load_image(encode(layer.convert(mode), "PNG"), limits)
    assert [image.getpixel((x, 10)) for x in (50, 150, 250)] == [(0, 0, 0), (127, 127, 127), (255, 255, 255)]


def test_heic_round_trip(limits):
    data = encode(quadrants(), "HEIF", quality=95)
    assert pillow_heif.is_supported(data)
    image = load_image(data, limits)
    assert image.size == (320, 400)
    assert np.abs(np.asarray(image, np.int16) - np.asarray(quadrants(), np.int16)).mean() < 4


# How a camera stores an upright scene for each EXIF orientation: the raw pixels are the scene
# turned by the inverse of the correction the tag asks a viewer to apply.
_STORED_AS = {
    1: [],
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_90],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_270],
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_lands_upright(orientation, limits):
    upright = quadrants()
    stored = upright
    for step in _STORED_AS[orientation]:
        stored = stored.transpose(step)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    image = load_image(encode(stored, "JPEG", quality=95, exif=exif.tobytes()), limits)
    assert image.size == upright.size
    assert np.abs(np.asarray(image, np.int16) - np.asarray(upright, np.int16)).mean() < 4


def test_metadata_is_dropped(limits):
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (55.0, 45.0, 21.0)
    data = encode(quadrants(), "JPEG", quality=90, exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    image = load_image(data, limits)
    assert dict(image.getexif()) == {} and image.info == {}
    assert b"Exif" not in encode(image, "JPEG")
