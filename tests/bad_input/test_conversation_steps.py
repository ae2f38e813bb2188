"""The bad-input corpus, conversation steps: input at the wrong moment, old and repeated buttons, albums.

Each case ends with the conversation still usable and nothing queued. Where a case must show that
something did NOT happen, it waits for the bot to answer a later message (and a short settle) first.
"""

import asyncio
import json

import numpy as np
import pytest
from aiogram.fsm.storage.base import StorageKey
from PIL import Image

from shopshot.bot.callbacks import BackdropPicked, OptionPicked, ResultAction, Step
from shopshot.pipeline.intake import load_image
from shopshot.playground.scripted import Choices, reach_summary, with_button
from shopshot.queue.enqueue import ACTIVE_KEY
from shopshot.queue.spec import JobSpec
from tests.bad_input import corpus
from tests.bad_input.conftest import BOT_ID
from tests.bad_input.replies import (
    batch_notice,
    cancelled,
    forgotten,
    gallery_caption,
    kept,
    stale,
    started_over,
    still_prompt,
)
from tests.conftest import until
from tests.pipeline.conftest import encode
from tests.security.conftest import ask_forget, forget_button

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.corpus]

SETTLE_S = 1.0
ALBUM_COLOURS = [(20 * n + 10, 200 - 15 * n, 90) for n in range(11)]


async def callback_answers(api, user: int, count: int, timeout: float = 30.0) -> list[dict]:
    """The bot's answers to `user`'s button presses, once there are `count` of them."""
    seen: list[dict] = []

    async def enough() -> list[dict] | None:
        seen[:] = await api.callback_answers(user)
        return list(seen) if len(seen) >= count else None

    return await until(
        enough, timeout, 0.05, what=f"{count} callback answers", explain=lambda: f"{len(seen)} came: {seen}"
    )


async def settled(api, user: int) -> list[dict]:
    """The bot's messages once it has answered a later text (and a moment more for stragglers)."""
    count = len(await api.messages(user))
    await api.send_text(user, "anything to say?")
    await api.wait_for(user, lambda messages: len(messages) > count and messages[-1]["text"])
    await asyncio.sleep(SETTLE_S)
    return await api.messages(user)


async def answer_to(api, user: int, pressing) -> str:
    """The text of the bot's answer to a button press, `pressing` being the not yet awaited press."""
    before = len(await api.callback_answers(user))
    await pressing
    return (await callback_answers(api, user, before + 1))[-1]["text"]


async def gallery_after(api, user: int, photo: bytes) -> dict:
    """Send a photo and return the gallery it leads to (a newer one than any before)."""
    newest = max((m["message_id"] for m in await api.messages(user)), default=0)
    await api.send_photo(user, photo)
    return await api.wait_for(user, lambda messages: _newer_gallery(messages, newest))


def _newer_gallery(messages: list[dict], newest: int) -> dict | None:
    gallery = with_button(f"{BackdropPicked.__prefix__}:")(messages)
    return gallery if gallery and gallery["message_id"] > newest else None


def product_photo(colour: tuple[int, int, int]) -> bytes:
    """A product of this colour in the middle of a light grey frame (a photo with none is refused as it arrives)."""
    image = Image.new("RGB", (300, 300), (228, 228, 226))
    image.paste(colour, (70, 70, 230, 230))
    return encode(image, "JPEG", quality=95)


def texts_of(messages: list[dict]) -> list[str]:
    return [m["text"] or m["caption"] for m in messages]


def colour_of(image: Image.Image) -> np.ndarray:
    return np.asarray(image, np.int16)[150, 150]


async def test_photo_where_a_button_press_is_expected_starts_over_with_it(stack):
    api, user = stack.api, 8001
    await gallery_after(api, user, corpus.good_photo())
    second = product_photo((30, 60, 220))
    await gallery_after(api, user, second)
    texts = [m["text"] or m["caption"] for m in await api.messages(user)]
    assert texts[-3:] == [stack.speak("en", make) for make in (started_over, kept, gallery_caption)]
    image = load_image(await stack.image_bytes(user), stack.settings.limits)
    assert np.abs(colour_of(image) - (30, 60, 220)).max() < 12
    stack.assert_no_worker_time()


async def test_stale_button_from_an_old_conversation_does_nothing(stack):
    api, user = stack.api, 8002
    old = await gallery_after(api, user, corpus.good_photo())
    new = await gallery_after(api, user, product_photo((200, 200, 40)))
    count = len(await api.messages(user))
    await api.press(user, old["message_id"], data=BackdropPicked(key="white").pack())
    assert (await callback_answers(api, user, 1))[-1]["text"] == stack.speak("en", stale)
    assert len(await api.messages(user)) == count
    await api.press(user, new["message_id"], data=BackdropPicked(key="white").pack())  # the current one still works
    await api.wait_for(user, with_button(f"{OptionPicked.__prefix__}:"))
    stack.assert_no_worker_time()


async def test_backdrop_pressed_twice_is_taken_once(stack):
    api, user = stack.api, 8003
    gallery = await gallery_after(api, user, corpus.good_photo())
    pick = BackdropPicked(key="white").pack()
    await api.press(user, gallery["message_id"], data=pick)
    await api.forge_callback(user, gallery["message_id"], pick)  # the second tap, sent before the buttons went
    answers = await callback_answers(api, user, 2)
    assert sorted(answer["text"] or "" for answer in answers) == ["", stack.speak("en", stale)]
    messages = await settled(api, user)
    assert sum(1 for m in messages if with_button(f"{OptionPicked.__prefix__}:")([m])) == 1
    stack.assert_no_worker_time()


async def test_continue_pressed_twice_shows_one_summary(stack):
    api, user = stack.api, 8004
    gallery = await gallery_after(api, user, corpus.good_photo())
    await api.press(user, gallery["message_id"], data=BackdropPicked(key="white").pack())
    options = await api.wait_for(user, with_button(f"{OptionPicked.__prefix__}:"))
    done = Step(action="continue").pack()
    await api.press(user, options["message_id"], data=done)
    await api.forge_callback(user, options["message_id"], done)
    answers = await callback_answers(api, user, 3)
    assert [answer["text"] for answer in answers].count(stack.speak("en", stale)) == 1
    summary = await api.wait_for(user, with_button(Step(action="confirm").pack()))
    assert summary["message_id"] == options["message_id"] and summary["edits"] == 1
    stack.assert_no_worker_time()


async def test_buttons_out_of_order_are_refused_and_change_nothing(stack):
    api, user = stack.api, 8005
    gallery = await gallery_after(api, user, corpus.good_photo())
    # Confirm and an option while the backdrop is still to be chosen, as an outdated client could send them.
    await api.forge_callback(user, gallery["message_id"], Step(action="confirm").pack())
    await api.forge_callback(user, gallery["message_id"], OptionPicked(name="variants", value="4").pack())
    assert [answer["text"] for answer in await callback_answers(api, user, 2)] == [stack.speak("en", stale)] * 2
    await api.press(user, gallery["message_id"], data=BackdropPicked(key="studio").pack())
    options = await api.wait_for(user, with_button(f"{OptionPicked.__prefix__}:"))
    await api.press(user, options["message_id"], data=Step(action="continue").pack())
    summary = await api.wait_for(user, with_button(Step(action="confirm").pack()))
    # A backdrop from the gallery once the summary is up: refused, and the summary still says 2 images.
    await api.forge_callback(user, gallery["message_id"], BackdropPicked(key="wall").pack())
    assert (await callback_answers(api, user, 5))[-1]["text"] == stack.speak("en", stale)
    messages = await settled(api, user)
    assert messages[-1]["text"] == stack.speak("en", still_prompt)
    current = next(m for m in messages if m["message_id"] == summary["message_id"])
    assert "2 images" in current["text"] and current["edits"] == summary["edits"]
    stack.assert_no_worker_time()


async def test_another_backdrop_leaves_every_earlier_gallery_inactive(stack):
    api, user = stack.api, 8006
    first = await gallery_after(api, user, corpus.good_photo())
    summary = await reach_summary(api, user, Choices(preset="white", ratio="1:1", variants=1))
    await api.press(user, summary["message_id"], data=Step(action="confirm").pack())
    job_id = await queued_job(stack, user)  # no worker here: it waits, as if its results had come
    # A newer photo's gallery, then "Another backdrop" on the older job: neither gallery may act on that conversation.
    newer = await gallery_after(api, user, product_photo((40, 160, 90)))
    again = ResultAction(action="backdrop", job_id=job_id).pack()
    await api.forge_callback(user, summary["message_id"], again)  # where the result's buttons would be
    current = await api.wait_for(user, lambda messages: _newer_gallery(messages, newer["message_id"]))
    # The handler records the conversation's start once Telegram has answered with the gallery's id:
    # press only once it has, as a seller's thumb always would.
    data_key = stack.fsm.key_builder.build(StorageKey(bot_id=BOT_ID, chat_id=user, user_id=user), "data")
    await until(
        lambda: json.loads(stack.redis.get(data_key) or "{}").get("since_message_id") == current["message_id"],
        what="the newest gallery's conversation",
    )
    count = len(await api.messages(user))
    wall = BackdropPicked(key="wall").pack()
    for pick in (api.press(user, newer["message_id"], data=wall), api.forge_callback(user, first["message_id"], wall)):
        assert await answer_to(api, user, pick) == stack.speak("en", stale)
    assert len(await api.messages(user)) == count
    await api.press(user, current["message_id"], data=BackdropPicked(key="white").pack())  # its own gallery works
    await api.wait_for(user, with_button(f"{OptionPicked.__prefix__}:"))
    await forget(stack, user)
    stack.assert_no_worker_time()


async def test_an_old_cancel_is_inactive_and_the_current_one_cancels(stack):
    api, user = stack.api, 8007
    await gallery_after(api, user, corpus.good_photo())
    summary = await reach_summary(api, user, Choices(preset="white", ratio="1:1", variants=1))
    gallery = await gallery_after(api, user, product_photo((90, 40, 160)))
    count = len(await api.messages(user))
    cancel = Step(action="cancel").pack()
    assert await answer_to(api, user, api.press(user, summary["message_id"], data=cancel)) == stack.speak("en", stale)
    assert len(await api.messages(user)) == count
    await api.press(user, gallery["message_id"], data=cancel)  # the current step's Cancel
    await api.wait_for(user, lambda messages: messages[-1]["text"] == stack.speak("en", cancelled))
    count = len(await api.messages(user))
    # The same Cancel again (the client still showed it), with no conversation left to cancel.
    assert await answer_to(api, user, api.forge_callback(user, gallery["message_id"], cancel)) == stack.speak(
        "en", stale
    )
    assert len(await api.messages(user)) == count
    stack.assert_no_worker_time()


async def queued_job(stack, user: int) -> str:
    """The id of `user`'s job waiting in the queue, once it is there."""
    jobs = await until(
        lambda: [
            job_id.decode()
            for job_id, spec in stack.redis.hgetall(ACTIVE_KEY).items()
            if JobSpec.from_json(spec).user_id == user
        ],
        30,
        0.05,
        what=f"a job of {user} queued",
    )
    return jobs[0]


async def forget(stack, user: int) -> None:
    """/forget, confirmed, which takes the seller's waiting job off the queue too; returns once the bot said it is done."""
    question = await ask_forget(stack.api, user)
    await stack.api.press(user, question["message_id"], data=forget_button(question))
    await stack.api.wait_for(user, lambda messages: messages[-1]["text"] == stack.speak("en", forgotten))


@pytest.mark.parametrize(
    "last_in_a_group", [True, False], ids=["album-of-11-as-10-and-1", "album-of-10-then-a-lone-11th"]
)
async def test_album_of_eleven_is_one_batch_asked_about_once(stack, last_in_a_group):
    api, user = stack.api, 8010 + last_in_a_group
    photos = [product_photo(colour) for colour in ALBUM_COLOURS]
    # Telegram sends an album of 11 as a media group of 10 followed by the 11th, in a group of its own or alone.
    await api.send_album(user, photos[:10])
    await api.send_photo(user, photos[10], media_group_id="second-group" if last_in_a_group else None)
    await until(lambda: len(_batch_of(stack, user)["photos"]) == 11, what="the eleven photos in one batch")
    messages = await settled(api, user)
    # One notice and one gallery for the whole send, whichever photo's update came first.
    expected = [stack.speak("en", make) for make in (batch_notice, gallery_caption, still_prompt)]
    assert [m["text"] or m["caption"] for m in messages] == expected
    stack.assert_no_worker_time()


def _batch_of(stack, user: int) -> dict:
    data_key = stack.fsm.key_builder.build(StorageKey(bot_id=BOT_ID, chat_id=user, user_id=user), "data")
    return json.loads(stack.redis.get(data_key) or "{}").get("batch") or {"photos": []}


async def test_a_photo_after_the_batch_window_is_a_new_conversation(stack, monkeypatch):
    api, user = stack.api, 8012
    await api.send_album(user, [product_photo(colour) for colour in ALBUM_COLOURS[:2]])
    gallery = await api.wait_for(user, with_button(f"{BackdropPicked.__prefix__}:"))
    await until(lambda: len(_batch_of(stack, user)["photos"]) == 2, what="the album's two photos in the batch")
    monkeypatch.setattr("shopshot.bot.batch.BATCH_WINDOW_S", 0)  # as if the seller came back later
    await asyncio.sleep(1.1)  # Telegram dates messages in whole seconds
    later = await gallery_after(api, user, product_photo(ALBUM_COLOURS[5]))
    assert later["message_id"] > gallery["message_id"]
    assert texts_of(await api.messages(user))[-3:] == [
        stack.speak("en", make) for make in (started_over, kept, gallery_caption)
    ]
    image = load_image(await stack.image_bytes(user), stack.settings.limits)
    assert np.abs(colour_of(image) - ALBUM_COLOURS[5]).max() < 12
