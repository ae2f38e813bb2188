"""The bad inputs themselves: bytes of broken, odd and hostile files, and Telegram media that are not photos."""

import struct
import zlib
from functools import cache

import numpy as np
from PIL import ExifTags, Image

from shopshot.pipeline.gallery import sample_product
from tests.pipeline.conftest import encode, quadrants

MB = 1024 * 1024

# How a camera stores an upright scene for each EXIF orientation: the raw pixels are the scene
# turned by the inverse of the correction the tag asks a viewer to apply.
STORED_AS = {
    1: [],
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_90],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_270],
}


@cache
def good_photo() -> bytes:
    """A real product photo, small enough to pass through the stand-in quickly."""
    return encode(sample_product().resize((480, 600), Image.Resampling.LANCZOS), "JPEG", quality=90)


def noise(size: int = 400, seed: int = 2) -> Image.Image:
    """Random pixels: they compress badly, so a cut anywhere in the file loses real data."""
    return Image.fromarray(np.random.default_rng(seed).integers(0, 255, (size, size, 3), np.uint8))


def truncated_jpeg() -> bytes:
    data = encode(noise(), "JPEG", quality=90)
    return data[: len(data) * 6 // 10]


def random_bytes() -> bytes:
    return np.random.default_rng(1).bytes(4096)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header, with almost no pixel data behind it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def jpeg_header_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header is rewritten to claim another size (JPEG allows up to 65535)."""
    data = bytearray(encode(quadrants(), "JPEG", quality=80))
    frame = data.index(b"\xff\xc0")  # baseline start-of-frame: length, precision, then height and width
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_frame_claiming(width: int, height: int) -> bytes:
    """A 64×80 GIF whose one frame claims another size: Pillow's bomb check fires while reading it.

    Found by the fuzz test: it escaped `load_image` as Pillow's DecompressionBombError.
    """
    screen = b"GIF87a" + struct.pack("<HH", 64, 80) + b"\x00\x00\x00"
    frame = b"," + struct.pack("<HHHH", 0, 0, width, height) + b"\x00" + b"\x02\x02\x4c\x01\x00"
    return screen + frame + b";"


def grey_png(width: int, height: int) -> bytes:
    return encode(Image.new("L", (width, height), 128), "PNG")


def tiny_jpeg() -> bytes:
    return encode(Image.new("RGB", (10, 10), (200, 40, 40)), "JPEG")


# The taken cases show a product in the middle of a plain frame: a photo with none is refused as it arrives.
PRODUCT_BOX = (90, 90, 210, 210)


def cmyk_jpeg() -> bytes:
    """Pure red ink on white paper."""
    image = Image.new("CMYK", (300, 300), (0, 0, 0, 0))
    image.paste((0, 255, 255, 0), PRODUCT_BOX)
    return encode(image, "JPEG", quality=95)


def png_16_bit() -> bytes:
    """A light item on mid grey, in 16 bits."""
    pixels = np.full((300, 300), 30000, np.uint16)
    x0, y0, x1, y1 = PRODUCT_BOX
    pixels[y0:y1, x0:x1] = 60000
    return encode(Image.fromarray(pixels), "PNG")


def palette_png_with_transparency() -> bytes:
    """A red item on a transparent ground."""
    palette = Image.new("P", (300, 300), 0)
    palette.putpalette([0, 0, 0, 200, 20, 20] + [0] * 762)
    palette.paste(1, PRODUCT_BOX)
    return encode(palette, "PNG", transparency=0)


def animated(format: str) -> bytes:
    frames = [Image.new("RGB", (300, 300), colour) for colour in ("red", "blue", "green")]
    return encode(frames[0], format, save_all=True, append_images=frames[1:], duration=100, loop=0)


def still_gif() -> bytes:
    return encode(quadrants(), "GIF")


def framed_quadrants() -> Image.Image:
    """The quadrants as a product in the middle of a light grey 320×400 frame: still different under every flip and turn."""
    frame = Image.new("RGB", (320, 400), (228, 228, 226))
    frame.paste(quadrants((200, 260)), (60, 70))
    return frame


def iphone_heic() -> bytes:
    """A HEIC as an iPhone writes it: Apple's EXIF, and the camera's HEVC still-image brand."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 15 Pro"
    exif[ExifTags.Base.Software] = "17.4"
    return encode(framed_quadrants(), "HEIF", quality=90, exif=exif.tobytes())


def oriented_jpeg(orientation: int) -> bytes:
    """The upright framed quadrants stored as a camera does for this EXIF orientation, with the tag set."""
    stored = framed_quadrants()
    for step in STORED_AS[orientation]:
        stored = stored.transpose(step)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return encode(stored, "JPEG", quality=95, exif=exif.tobytes())


def gps_jpeg() -> bytes:
    """The sample product photo as a phone writes it: camera make and model, GPS position, a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.Model] = "Secret Model 7"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (55.0, 45.0, 21.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (37.0, 37.0, 4.0)
    image = sample_product().resize((480, 600), Image.Resampling.LANCZOS)
    return encode(image, "JPEG", quality=90, exif=exif.tobytes(), comment=b"PhoneCo secret comment")


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400">'
    b'<rect width="400" height="400" fill="red"/></svg>'
)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + bytes(256)
DOCX = b"PK\x03\x04" + bytes(26) + b"[Content_Types].xml" + bytes(200)


def over_the_limit(limit_mb: int) -> bytes:
    """A JPEG-looking file one megabyte over the byte limit."""
    return b"\xff\xd8\xff\xe0" + bytes((limit_mb + 1) * MB - 4)


def mutation_seeds() -> list[bytes]:
    """Small real files of every format and mode the intake takes or names, for the fuzz test to mutate."""
    small = quadrants((64, 80))
    frames = [small, small.transpose(Image.Transpose.ROTATE_180)]
    return [
        encode(small, "JPEG", quality=80),
        encode(small, "JPEG", quality=80, progressive=True),
        encode(small.convert("CMYK"), "JPEG"),
        encode(small, "PNG"),
        encode(small.convert("LA"), "PNG"),
        encode(small.convert("1"), "PNG"),
        encode(Image.fromarray(np.full((80, 64), 40000, np.uint16)), "PNG"),
        encode(small.convert("P"), "PNG", transparency=0),
        encode(small, "WEBP", quality=80),
        encode(small, "WEBP", lossless=True),
        encode(small, "HEIF", quality=60),
        encode(small, "GIF"),
        encode(small, "BMP"),
        encode(small, "TIFF"),
        encode(frames[0], "GIF", save_all=True, append_images=frames[1:]),
        encode(frames[0], "PNG", save_all=True, append_images=frames[1:]),
        png_header_only(70_000, 70_000),
        jpeg_header_claiming(60_000, 60_000),
        SVG,
        PDF,
        MP4,
    ]
