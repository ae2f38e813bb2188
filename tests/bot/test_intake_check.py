"""The photo checked as it arrives, through the real bot and the stand-in: refused at once with an
example, or shown back as what the cut-out keeps, then a gallery of the seller's own product."""

import io

import cv2
import numpy as np
import skimage.data
from PIL import Image

from shopshot.bot import texts
from shopshot.bot.callbacks import BackdropPicked, GalleryPage
from shopshot.errors import NoProductFound, ProductUnclear
from shopshot.playground.scripted import buttons, newer_than, with_button
from tests.pipeline.conftest import encode
from tests.pipeline.test_cutout import _board

USER = 511
MAGENTA = (215, 30, 185)


def magenta_product() -> bytes:
    """A magenta box, lit from above, standing on a light grey sweep: a colour no backdrop has."""
    ys = np.arange(1200, dtype=np.float32)[:, None, None]
    pixels = np.full((1200, 960, 3), 226, np.float32) - 10 * ys / 1200
    box = np.float32(MAGENTA) * (1.05 - 0.1 * (ys[380:980] - 380) / 600)
    pixels[380:980, 300:660] = box
    return encode(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), "JPEG", quality=90)


def magenta_blobs(image: np.ndarray) -> int:
    """How many sizeable patches of the product's magenta a picture holds (one per thumbnail it is on)."""
    red, green, blue = (image[..., channel].astype(np.int16) for channel in range(3))
    magenta = (red > 160) & (green < 90) & (blue > 130)
    _count, _, stats, _ = cv2.connectedComponentsWithStats(magenta.astype(np.uint8), connectivity=8)
    return int((stats[1:, cv2.CC_STAT_AREA] >= 400).sum())


def _english(catalogs, make, *args) -> str:
    with catalogs.context(), catalogs.use_locale("en"):
        return make(*args)


async def _picture(api, message: dict) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(await api.download(message["file_id"]))).convert("RGB"))


async def _start(api) -> None:
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0))


def _shown(messages: list[dict]) -> list[str]:
    """What the bot said after /start's welcome, less the one-off tip on sending files."""
    return [
        message["text"] or message["caption"]
        for message in messages[1:]
        if not (message["text"] or "").startswith("Tip:")
    ]


async def test_a_photo_with_no_product_is_refused_at_once_with_an_example_and_nothing_kept(bot, api, redis, catalogs):
    await _start(api)
    await api.send_photo(USER, encode(Image.new("RGB", (800, 800), (214, 212, 208)), "JPEG", quality=90))
    refusal = await api.wait_for(USER, lambda messages: next((m for m in messages if m["kind"] == "photo"), None))
    assert refusal["caption"] == _english(catalogs, texts.describe, NoProductFound, {})
    assert "a little background showing all around it" in refusal["caption"]
    assert refusal["width"] > 300 and not buttons(refusal)  # the example photo, not a gallery
    assert not redis.keys("shopshot:blob:*")
    # The next photo is taken: nothing between the refusal and its answer, no gallery for the first.
    await api.send_photo(USER, magenta_product())
    await api.wait_for(USER, with_button(f"{BackdropPicked.__prefix__}:"))
    assert _shown(await api.messages(USER)) == [
        refusal["caption"],
        _english(catalogs, texts.kept),
        "Choose a backdrop by its number:",
    ]


async def test_a_photo_with_no_clear_product_is_refused_with_advice_and_an_example(bot, api, redis, catalogs):
    """scikit-image's cat photo: the cat fills the frame on a busy background, so no product is clear."""
    await _start(api)
    await api.send_photo(USER, encode(Image.fromarray(skimage.data.chelsea()), "JPEG", quality=90))
    refusal = await api.wait_for(USER, lambda messages: next((m for m in messages if m["kind"] == "photo"), None))
    assert refusal["caption"] == _english(catalogs, texts.describe, ProductUnclear, {})
    assert "plainer background" in refusal["caption"] and not buttons(refusal)
    assert not redis.keys("shopshot:blob:*")


async def test_a_good_photo_shows_what_is_kept_then_its_own_product_on_every_backdrop(bot, api, catalogs):
    await _start(api)
    await api.send_photo(USER, magenta_product())
    gallery = await api.wait_for(USER, with_button(f"{BackdropPicked.__prefix__}:"))
    messages = await api.messages(USER)
    kept = next(m for m in messages if m["caption"] == _english(catalogs, texts.kept))
    assert kept["message_id"] < gallery["message_id"]
    preview = await _picture(api, kept)
    assert max(preview.shape[:2]) <= 320 and magenta_blobs(preview) == 1
    greys = {tuple(pixel) for pixel in preview[:32, :32].reshape(-1, 3)}
    assert any(min(grey) > 245 for grey in greys) and any(max(grey) < 232 for grey in greys)  # the checkerboard
    presets = [b for b in buttons(gallery) if b["callback_data"].startswith(f"{BackdropPicked.__prefix__}:")]
    assert magenta_blobs(await _picture(api, gallery)) == len(presets) == 6
    # The second page too, whether it comes as a new message or as the first one edited.
    await api.press(USER, gallery["message_id"], data=GalleryPage(page=1).pack())
    second = await api.wait_for(
        USER,
        lambda ms: next(
            (m for m in reversed(ms) if buttons(m) and m["kind"] == "photo" and m["file_id"] != gallery["file_id"]),
            None,
        ),
    )
    presets = [b for b in buttons(second) if b["callback_data"].startswith(f"{BackdropPicked.__prefix__}:")]
    assert magenta_blobs(await _picture(api, second)) == len(presets) == 4


async def test_a_product_filling_most_of_the_frame_is_taken(bot, api, catalogs):
    image, _ = _board(0.95)
    await _start(api)
    await api.send_document(USER, encode(image, "JPEG", quality=92), "board.jpg", mime_type="image/jpeg")
    gallery = await api.wait_for(USER, with_button(f"{BackdropPicked.__prefix__}:"))
    kept = next(m for m in await api.messages(USER) if m["caption"] == _english(catalogs, texts.kept))
    preview = await _picture(api, kept)
    board_green = (np.abs(preview.astype(np.int16) - (30, 95, 55)).max(axis=2) < 25).mean()
    assert board_green > 0.3 and kept["message_id"] < gallery["message_id"]
