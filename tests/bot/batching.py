"""Helpers of the batch tests: product photos, the batch a conversation holds, the choices made once."""

import json

from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from PIL import Image

from shopshot.config import STAND_IN_TOKEN
from shopshot.playground.scripted import Choices
from tests.pipeline.conftest import encode

BOT_ID = int(STAND_IN_TOKEN.split(":")[0])
CHOICES = Choices(
    preset="studio", ratio="4:5", variants=1
)  # the smallest target, one image a photo: the batch stays quick


def product_photo(number: int) -> bytes:
    """A product of its own colour in the middle of a light grey frame."""
    image = Image.new("RGB", (300, 300), (228, 228, 226))
    image.paste((20 * number % 200 + 10, 200 - 9 * number, 90), (70, 70, 230, 230))
    return encode(image, "JPEG", quality=95)


def blank_photo() -> bytes:
    """A frame with no product in it: refused as it arrives."""
    return encode(Image.new("RGB", (300, 300), (228, 228, 226)), "JPEG", quality=95)


def collected(redis, user: int) -> int:
    """How many photos of the send the conversation's batch holds, used or left out."""
    key = DefaultKeyBuilder().build(StorageKey(bot_id=BOT_ID, chat_id=user, user_id=user), "data")
    batch = json.loads(redis.get(key) or "{}").get("batch") or {"photos": [], "refused": []}
    return len(batch["photos"]) + len(batch["refused"])
