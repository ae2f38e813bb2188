"""The bad-input corpus, the one case that needs a real worker: a phone photo's EXIF (GPS, camera) never
reaches what the seller gets back."""

import io

import pytest
from PIL import ExifTags, Image

from shopshot.bot.callbacks import ResultAction, Step
from shopshot.playground.scripted import Choices, newer_than, reach_summary, with_button
from tests.bad_input import corpus

pytestmark = pytest.mark.corpus
USER = 8100
# What the upload carries, in the forms it could leak: EXIF's marker, PNG's EXIF chunk, the values.
TELLTALES = (b"Exif\x00\x00", b"eXIf", b"PhoneCo", b"Secret Model", b"secret comment")


async def test_delivered_images_carry_no_exif_from_the_upload(bot, worker, api):
    upload = corpus.gps_jpeg()
    assert Image.open(io.BytesIO(upload)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0))
    await api.send_document(USER, upload, "IMG_2041.jpg", mime_type="image/jpeg")
    summary = await reach_summary(api, USER, Choices(preset="white", ratio="1:1", variants=1))
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    await api.wait_for(USER, with_button(f"{ResultAction.__prefix__}:"), timeout=120)
    # What came after the summary: the album's photo and its full-resolution file (captioned with its seed).
    delivered = [
        m
        for m in await api.messages(USER)
        if m["kind"] in ("photo", "document") and m["message_id"] > summary["message_id"]
    ]
    assert {m["kind"] for m in delivered} == {"photo", "document"}
    for message in delivered:
        data = await api.download(message["file_id"])
        image = Image.open(io.BytesIO(data))
        assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
        assert not [telltale for telltale in TELLTALES if telltale in data]
