import io

import numpy as np
import pillow_heif
import pytest
from PIL import ExifTags, Image

from shopshot.config import LimitSettings
from shopshot.errors import (
    AnimatedImage,
    AudioNotPhoto,
    FileTooLarge,
    ImageTooLarge,
    ImageTooSmall,
    InputError,
    UnreadableImage,
    UnsupportedFormat,
    VideoNotPhoto,
)
from shopshot.pipeline import intake
from shopshot.pipeline.intake import check_declared, load_image, load_preview
from tests.bad_input.corpus import (
    animated,
    framed_quadrants,
    gif_frame_claiming,
    gps_jpeg,
    jpeg_header_claiming,
    mutation_seeds,
    oriented_jpeg,
    png_header_only,
    truncated_jpeg,
)
from tests.pipeline.conftest import encode, quadrants


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


@pytest.mark.parametrize("format", ["GIF", "WEBP", "PNG"])
def test_animations_are_refused_as_animations(format, limits):
    with pytest.raises(AnimatedImage) as caught:
        load_image(animated(format), limits)
    assert caught.value.params == {"kind": format}


def test_still_webp_loads(limits):
    assert load_image(encode(quadrants(), "WEBP", quality=90), limits).size == (320, 400)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"/>', "SVG"),
        (b"  <svg viewBox='0 0 10 10'><rect width='10' height='10'/></svg>", "SVG"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "PDF"),
    ],
    ids=["svg-xml", "svg", "pdf"],
)
def test_non_images_are_named(data, kind, limits):
    with pytest.raises(UnsupportedFormat) as caught:
        load_image(data, limits)
    assert caught.value.params == {"kind": kind}


_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"><rect width="400" height="400"/></svg>'


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\xef\xbb\xbf" + _SVG.encode(), "SVG"),
        (("\ufeff<?xml version='1.0' encoding='UTF-16'?>\n" + _SVG).encode("utf-16-le"), "SVG"),
        (("<?xml version='1.0' encoding='UTF-16'?>" + _SVG).encode("utf-16"), "SVG"),
        (b"<!-- Generator: Adobe Illustrator 27.0 -->\n" + _SVG.encode(), "SVG"),
        (
            b'\n\t <?xml version="1.0"?>\n<!-- logo -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"'
            b' "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n' + _SVG.encode(),
            "SVG",
        ),
        (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY ns "http://www.w3.org/2000/svg">]>' + _SVG.encode(), "SVG"),
        (b"\xef\xbb\xbf%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "PDF"),
        (b"\r\n\r\n%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "PDF"),
        (b"From: scanner@example.com\n" * 30 + b"%PDF-1.5\n1 0 obj\n<<>>\nendobj\n", "PDF"),
    ],
    ids=[
        "svg-utf8-bom",
        "svg-utf16le-bom",
        "svg-utf16",
        "svg-comment",
        "svg-space-declaration-comment-doctype",
        "svg-doctype-subset",
        "pdf-bom",
        "pdf-blank-lines",
        "pdf-after-junk",
    ],
)
def test_non_images_with_a_preamble_are_named(data, kind, limits):
    # Readers accept these, so sellers send them: they are not "unreadable" but SVG or PDF.
    with pytest.raises(UnsupportedFormat) as caught:
        load_image(data, limits)
    assert caught.value.params == {"kind": kind}


def test_pdf_header_past_what_readers_look_at_is_unreadable(limits):
    with pytest.raises(UnreadableImage):
        load_image(b" " * 1024 + b"%PDF-1.7\n", limits)


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64,
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + b"\x00" * 64,
        b"\x00\x00\x01\xb3\x14\x00\xf0\x13\xff\xff\xe0\x18" + b"\x00" * 64,
    ],
    ids=["mp4", "webm", "mpeg-1"],
)
def test_videos_are_named_as_videos(data, limits):
    with pytest.raises(VideoNotPhoto):
        load_image(data, limits)


@pytest.mark.parametrize(
    ("size", "mime_type", "file_name", "error", "params"),
    [
        (0, "image/jpeg", "photo.jpg", UnreadableImage, {}),
        (21 * 1024 * 1024, "image/jpeg", "photo.jpg", FileTooLarge, {"size_mb": 21.0, "limit_mb": 20}),
        (1000, "video/quicktime", "clip.mov", VideoNotPhoto, {}),
        (1000, "audio/ogg", None, AudioNotPhoto, {}),
        (1000, "application/pdf", "catalog.pdf", UnsupportedFormat, {"kind": "PDF"}),
        (
            1000,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "a.docx",
            UnsupportedFormat,
            {"kind": "DOCX"},
        ),
        (1000, "text/plain", None, UnsupportedFormat, {"kind": "TXT"}),
    ],
    ids=["empty", "too-large", "video", "audio", "pdf", "docx", "text-without-a-name"],
)
def test_declared_size_and_type_are_refused_before_download(size, mime_type, file_name, error, params, limits):
    with pytest.raises(error) as caught:
        check_declared(size, mime_type, file_name, limits)
    assert type(caught.value) is error and caught.value.params == params


@pytest.mark.parametrize("mime_type", [None, "application/octet-stream", "image/jpeg", "image/gif", "image/svg+xml"])
def test_declared_image_types_are_left_to_the_bytes(mime_type, limits):
    check_declared(5000, mime_type, "photo.jpg", limits)


def test_long_thin_png_is_too_small(limits):
    with pytest.raises(ImageTooSmall) as caught:
        load_image(encode(Image.new("L", (50000, 10)), "PNG"), limits)
    assert caught.value.params == {"width": 50000, "height": 10, "min_side": 256}


def test_tiny_image_is_too_small(limits):
    with pytest.raises(ImageTooSmall):
        load_image(encode(Image.new("RGB", (10, 10)), "PNG"), limits)


def test_decompression_bomb_is_too_large(limits):
    with pytest.raises(ImageTooLarge) as caught:
        load_image(png_header_only(100_000, 100_000), limits)
    assert caught.value.params == {"width": 100_000, "height": 100_000, "limit_mp": 40}


def test_jpeg_claiming_the_largest_size_is_too_large(limits):
    with pytest.raises(ImageTooLarge) as caught:
        load_image(jpeg_header_claiming(65_535, 65_535), limits)
    assert caught.value.params == {"width": 65_535, "height": 65_535, "limit_mp": 40}


def test_gif_frame_larger_than_its_screen_is_unreadable(limits):
    with pytest.raises(UnreadableImage):
        load_image(gif_frame_claiming(65_535, 65_535), limits)


def test_pixel_limit_is_checked_from_the_header_before_decoding(limits):
    # 64 MP is under Pillow's own bomb limit but over ours; the pixel data is missing, so a
    # decode before the check would have failed as unreadable instead.
    with pytest.raises(ImageTooLarge):
        load_image(png_header_only(8000, 8000), limits)


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


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_lands_upright(orientation, limits):
    upright = framed_quadrants()
    image = load_image(oriented_jpeg(orientation), limits)
    assert image.size == upright.size
    assert np.abs(np.asarray(image, np.int16) - np.asarray(upright, np.int16)).mean() < 4


def test_metadata_is_dropped(limits):
    data = gps_jpeg()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    image = load_image(data, limits)
    assert dict(image.getexif()) == {} and image.info == {}
    assert b"Exif" not in encode(image, "JPEG")


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_the_bots_check_gives_the_upright_size(orientation, limits):
    data = oriented_jpeg(orientation)
    preview, size = load_preview(data, limits, 200)
    upright = load_image(data, limits)
    assert size == upright.size
    assert np.abs(np.asarray(preview, np.int16) - np.asarray(upright.resize(preview.size), np.int16)).mean() < 6


def test_the_bots_check_refuses_what_loading_refuses(limits):
    small = LimitSettings(min_side=16)
    for data in [*mutation_seeds(), truncated_jpeg(), encode(quadrants((4000, 3000)), "PNG")[:-2000]]:
        try:
            expected = load_image(data, small).size
        except InputError as error:
            expected = type(error)
        try:
            found = load_preview(data, small, 640)[1]
        except InputError as error:
            found = type(error)
        assert found == expected


def test_the_bots_check_decodes_a_jpeg_at_the_smallest_scale_covering_the_preview(limits, monkeypatch):
    decoded = []
    monkeypatch.setattr(
        intake, "_decode", lambda image, decode=intake._decode: decode(image) or decoded.append(image.size)
    )
    data = encode(quadrants((4000, 3000)), "JPEG", quality=90)
    preview, size = load_preview(data, limits, 640)
    assert size == (4000, 3000) and preview.size == (640, 480)
    assert decoded == [(1000, 750)]
