"""Uploads bounded through the real bot: the quota and the upload rate answered in the seller's language, replaced photos dropped."""

import io

from PIL import Image

from shopshot.errors import StorageFull
from shopshot.pipeline.intake import stored_copy
from shopshot.playground.scripted import newer_than
from shopshot.queue.store import open_store
from tests.bot.test_intake_check import magenta_product
from tests.conftest import BotRunner
from tests.storage.test_blobs import stored_in_back_end

SELLER = 733


async def _send(api, photo: bytes) -> dict:
    count = len(await api.messages(SELLER))
    await api.send_photo(SELLER, photo)
    answers = await api.wait_for(
        SELLER,
        lambda messages: (
            [
                m
                for m in messages[count:]
                if m["from_bot"]
                and (m["text"] or m["caption"] or "").startswith(
                    ("Photos received", "Your photos", "Choose a backdrop")
                )
            ]
            or None
        ),
        timeout=60,
    )
    return answers[0]


def test_the_stored_photo_is_a_re_encoded_copy(settings):
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    exif[0x0112] = 6  # shot turned a quarter: the copy is stored upright
    with_exif = io.BytesIO()
    Image.open(io.BytesIO(magenta_product())).save(with_exif, "JPEG", quality=100, exif=exif)
    copy = stored_copy(with_exif.getvalue(), settings.limits)
    assert copy != with_exif.getvalue()
    reread = Image.open(io.BytesIO(copy))
    assert reread.format == "JPEG" and reread.size == (1200, 960) and not reread.getexif()


async def test_photos_sent_one_after_another_replace_each_other_in_storage(settings, redis, redis_url, stand_in, api):
    runner = _started(settings, redis_url, stand_in, uploads_per_minute=1000)
    try:
        await _begin(api)
        answers = [await _send(api, magenta_product()) for _ in range(4)]
    finally:
        await runner.stop()
    assert all(answer["caption"].startswith("Choose a backdrop") for answer in answers)
    # No job used the first three: each went, with its gallery pages, when the next came.
    store = open_store(redis, settings)
    [photo] = [key for key in redis.smembers(f"shopshot:blobs-of:{SELLER}") if key.count(b":") == 2]
    assert store.stored_bytes(SELLER) == store.size(photo.decode())
    assert len(stored_in_back_end(store)) == len(
        redis.smembers(f"shopshot:blobs-of:{SELLER}")
    )  # the photo and its pages


async def test_a_photo_past_the_quota_is_refused_in_the_sellers_words_and_not_kept(
    settings, redis, redis_url, stand_in, api
):
    runner = _started(settings, redis_url, stand_in, quota_mb=1)
    try:
        await _begin(api)
        answer = await _send(api, _noise(1600))  # about 3 MB re-encoded: noise does not compress
    finally:
        await runner.stop()
    assert answer["text"] == StorageFull.message.format(mb=1)
    assert not redis.keys("shopshot:blob:*") and not stored_in_back_end(open_store(redis, settings))


async def test_uploads_past_the_rate_are_answered_with_when_to_try_again(settings, redis_url, stand_in, api):
    runner = _started(settings, redis_url, stand_in, uploads_per_minute=2)
    try:
        await _begin(api)
        answers = [await _send(api, magenta_product()) for _ in range(3)]
    finally:
        await runner.stop()
    assert [(answer["text"] or answer["caption"]).split(":")[0] for answer in answers] == [
        "Choose a backdrop by its number"
    ] * 2 + ["Photos received in the last minute"]
    assert answers[2]["text"].startswith(
        "Photos received in the last minute: 2, the most allowed. Please try again in "
    )


def _started(settings, redis_url, stand_in, **storage) -> BotRunner:
    settings.storage = settings.storage.model_copy(update=storage)
    runner = BotRunner(settings, redis_url, stand_in)
    runner.start()
    return runner


async def _begin(api) -> None:
    await api.send_text(SELLER, "/start")
    await api.wait_for(SELLER, newer_than(0))


def _noise(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise((side, side), 80) for _ in range(3)]).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def test_a_lossless_upload_stays_lossless(settings):
    logo = Image.new("RGB", (400, 300), (200, 20, 20))
    buffer = io.BytesIO()
    logo.save(buffer, "PNG")
    copy = Image.open(io.BytesIO(stored_copy(buffer.getvalue(), settings.limits)))
    assert copy.format == "PNG" and copy.getpixel((150, 150)) == (200, 20, 20)
