"""The bad-input corpus, files and media: each case sent to the real bot through the stand-in.

A refused case must get exactly its clear, localized answer, queue nothing, and leave the
conversation able to take a good photo next. A taken case must reach the backdrop gallery with
the image a worker would load looking as it should (upright, RGB, transparency on white).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from shopshot.bot import texts
from shopshot.errors import (
    AnimatedImage,
    AudioNotPhoto,
    FileTooLarge,
    ImageTooLarge,
    ImageTooSmall,
    ShopshotError,
    StickerNotPhoto,
    UnreadableImage,
    UnsupportedFormat,
    VideoNotPhoto,
)
from shopshot.pipeline.intake import load_image
from shopshot.playground.client import StandInClient
from shopshot.playground.scripted import with_button
from tests.bad_input import corpus
from tests.bad_input.replies import gallery_caption, kept, photo_prompt, tip
from tests.languages import TELEGRAM_CODES

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.corpus]

Send = Callable[[StandInClient, int, str], Awaitable[object]]
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def as_file(make: Callable[[], bytes], name: str, mime_type: str | None) -> Send:
    return lambda api, user, code: api.send_document(user, make(), name, mime_type=mime_type, language_code=code)


def as_photo(make: Callable[[], bytes]) -> Send:
    return lambda api, user, code: api.send_photo(user, make(), language_code=code)


def as_message(fields: dict) -> Send:
    return lambda api, user, code: api.send_message_fields(user, fields, language_code=code)


def as_text(text: str) -> Send:
    return lambda api, user, code: api.send_text(user, text, language_code=code)


def refused(error: type[ShopshotError], **params: object) -> Callable[[], str]:
    return lambda: texts.describe(error, params)


@dataclass(frozen=True)
class Refusal:
    id: str
    send: Send
    answer: Callable[[], str]
    language: str = "en"


ANIMATION = {"file_id": "gif-as-mp4", "file_unique_id": "gif1", "file_name": "spin.gif.mp4", "mime_type": "video/mp4"}
STICKER = {
    "sticker": {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}
}
VOICE = {"voice": {"duration": 3, "mime_type": "audio/ogg"}}

REFUSALS = [
    Refusal("truncated-jpeg", as_file(corpus.truncated_jpeg, "photo.jpg", "image/jpeg"), refused(UnreadableImage)),
    Refusal(
        "zero-bytes",
        as_message(
            {
                "document": {
                    "file_id": "empty",
                    "file_unique_id": "empty",
                    "file_size": 0,
                    "file_name": "photo.jpg",
                    "mime_type": "image/jpeg",
                }
            }
        ),
        refused(UnreadableImage),
    ),
    Refusal(
        "random-bytes-named-jpg", as_file(corpus.random_bytes, "photo.jpg", "image/jpeg"), refused(UnreadableImage)
    ),
    Refusal(
        "decompression-bomb-png",
        as_file(lambda: corpus.png_header_only(100_000, 100_000), "bomb.png", "image/png"),
        refused(ImageTooLarge, width=100_000, height=100_000, limit_mp=40),
    ),
    Refusal(
        "decompression-bomb-jpeg",
        as_file(lambda: corpus.jpeg_header_claiming(65_535, 65_535), "bomb.jpg", "image/jpeg"),
        refused(ImageTooLarge, width=65_535, height=65_535, limit_mp=40),
    ),
    Refusal(
        "gif-frame-bomb",
        as_file(lambda: corpus.gif_frame_claiming(65_535, 65_535), "frame.gif", "image/gif"),
        refused(UnreadableImage),
    ),
    Refusal(
        "50000x10-png",
        as_file(lambda: corpus.grey_png(50_000, 10), "banner.png", "image/png"),
        refused(ImageTooSmall, width=50_000, height=10, min_side=256),
    ),
    Refusal("10x10-photo", as_photo(corpus.tiny_jpeg), refused(ImageTooSmall, width=10, height=10, min_side=256)),
    Refusal(
        "animated-gif-file", as_file(lambda: corpus.animated("GIF"), "spin.gif", "image/gif"), refused(AnimatedImage)
    ),
    Refusal(
        "gif-as-telegram-animation",
        as_message({"animation": {**ANIMATION, "width": 300, "height": 300, "duration": 1}, "document": ANIMATION}),
        refused(AnimatedImage),
    ),
    Refusal(
        "animated-webp", as_file(lambda: corpus.animated("WEBP"), "spin.webp", "image/webp"), refused(AnimatedImage)
    ),
    Refusal("animated-png", as_file(lambda: corpus.animated("PNG"), "spin.png", "image/png"), refused(AnimatedImage)),
    Refusal("still-gif", as_file(corpus.still_gif, "still.gif", "image/gif"), refused(UnsupportedFormat, kind="GIF")),
    Refusal("svg", as_file(lambda: corpus.SVG, "logo.svg", "image/svg+xml"), refused(UnsupportedFormat, kind="SVG")),
    Refusal(
        "pdf", as_file(lambda: corpus.PDF, "catalog.pdf", "application/pdf"), refused(UnsupportedFormat, kind="PDF")
    ),
    Refusal(
        "pdf-named-jpg", as_file(lambda: corpus.PDF, "photo.jpg", "image/jpeg"), refused(UnsupportedFormat, kind="PDF")
    ),
    Refusal(
        "word-document", as_file(lambda: corpus.DOCX, "specs.docx", DOCX_TYPE), refused(UnsupportedFormat, kind="DOCX")
    ),
    Refusal(
        "video",
        as_message({"video": {"width": 640, "height": 360, "duration": 5, "mime_type": "video/mp4"}}),
        refused(VideoNotPhoto),
    ),
    Refusal("video-file", as_file(lambda: corpus.MP4, "clip.mp4", "video/mp4"), refused(VideoNotPhoto)),
    Refusal("video-named-jpg", as_file(lambda: corpus.MP4, "photo.jpg", None), refused(VideoNotPhoto)),
    Refusal("video-note", as_message({"video_note": {"length": 240, "duration": 3}}), refused(VideoNotPhoto)),
    Refusal("sticker", as_message(STICKER), refused(StickerNotPhoto)),
    Refusal("voice", as_message(VOICE), refused(AudioNotPhoto)),
    Refusal(
        "audio-file",
        as_message({"audio": {"duration": 30, "mime_type": "audio/mpeg", "title": "Jingle"}}),
        refused(AudioNotPhoto),
    ),
    Refusal(
        "over-the-size-limit",
        as_file(lambda: corpus.over_the_limit(20), "huge.jpg", "image/jpeg"),
        refused(FileTooLarge, size_mb=21.0, limit_mb=20),
    ),
    Refusal("location", as_message({"location": {"latitude": 55.75, "longitude": 37.62}}), photo_prompt),
    Refusal("text-where-a-photo-is-expected", as_text("hello, here is my product"), photo_prompt),
    # The same answers in other languages (numbers too): read from the catalogs the bot uses.
    Refusal("sticker-de", as_message(STICKER), refused(StickerNotPhoto), "de"),
    Refusal("voice-ar", as_message(VOICE), refused(AudioNotPhoto), "ar"),
    Refusal(
        "animated-webp-ar",
        as_file(lambda: corpus.animated("WEBP"), "spin.webp", "image/webp"),
        refused(AnimatedImage),
        "ar",
    ),
    Refusal(
        "decompression-bomb-png-de",
        as_file(lambda: corpus.png_header_only(100_000, 100_000), "bomb.png", "image/png"),
        refused(ImageTooLarge, width=100_000, height=100_000, limit_mp=40),
        "de",
    ),
    Refusal("text-where-a-photo-is-expected-ar", as_text("مرحبا"), photo_prompt, "ar"),
]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in REFUSALS])
async def test_refused_input_is_answered_clearly_and_costs_no_worker_time(stack, case):
    api, user, code = stack.api, 6000 + REFUSALS.index(case), TELEGRAM_CODES[case.language]
    expected = stack.speak(case.language, case.answer)
    assert case.language == "en" or expected != stack.speak("en", case.answer), "the answer is not translated"
    hints = {stack.speak(case.language, tip)}
    await case.send(api, user, code)
    await api.wait_for(user, lambda messages: [m for m in messages if m["text"] not in hints])
    stack.assert_no_worker_time()
    # Not stuck: a good photo afterwards still reaches the gallery.
    await api.send_photo(user, corpus.good_photo(), language_code=code)
    await api.wait_for(user, with_button("bd:"))
    shown = [m["text"] or m["caption"] for m in await api.messages(user) if m["text"] not in hints]
    assert shown == [expected, stack.speak(case.language, kept), stack.speak(case.language, gallery_caption)]
    stack.assert_no_worker_time()


def is_red_on_white(image: Image.Image) -> None:
    """The palette picture: red in the middle, its transparent ground flattened onto white."""
    assert image.getpixel((150, 150)) == (200, 20, 20) and image.getpixel((20, 20)) == (255, 255, 255)


def is_red(image: Image.Image) -> None:
    red, green, blue = image.getpixel((150, 150))
    assert red > 200 and green < 60 and blue < 60


def is_mid_grey(image: Image.Image) -> None:
    # 30000 of 65535 scaled down, not clipped to white.
    assert image.getpixel((10, 10)) == (117, 117, 117)


def is_upright_quadrants(image: Image.Image) -> None:
    upright = corpus.framed_quadrants()
    assert image.size == upright.size
    assert np.abs(np.asarray(image, np.int16) - np.asarray(upright, np.int16)).mean() < 4


@dataclass(frozen=True)
class Taken:
    id: str
    send: Send
    check: Callable[[Image.Image], None]


TAKEN = [
    Taken("cmyk-jpeg", as_file(corpus.cmyk_jpeg, "print.jpg", "image/jpeg"), is_red),
    Taken("16-bit-png", as_file(corpus.png_16_bit, "scan.png", "image/png"), is_mid_grey),
    Taken(
        "palette-png-with-transparency",
        as_file(corpus.palette_png_with_transparency, "logo.png", "image/png"),
        is_red_on_white,
    ),
    Taken("iphone-heic", as_file(corpus.iphone_heic, "IMG_0042.HEIC", "image/heic"), is_upright_quadrants),
    *[
        Taken(
            f"exif-orientation-{n}",
            as_file(lambda n=n: corpus.oriented_jpeg(n), f"IMG_{n}.jpg", "image/jpeg"),
            is_upright_quadrants,
        )
        for n in corpus.STORED_AS
    ],
]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in TAKEN])
async def test_odd_but_usable_image_is_taken_as_it_looks(stack, case):
    api, user = stack.api, 7000 + TAKEN.index(case)
    await case.send(api, user, "en")
    await api.wait_for(user, with_button("bd:"))
    assert [m["text"] or m["caption"] for m in await api.messages(user)] == [
        stack.speak("en", make) for make in (kept, gallery_caption)
    ]
    image = load_image(await stack.image_bytes(user), stack.settings.limits)
    assert image.mode == "RGB"
    case.check(image)
    stack.assert_no_worker_time()
