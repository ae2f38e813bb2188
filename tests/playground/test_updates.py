"""getUpdates: acknowledgement by offset, long polling, conflicts and allowed_updates."""

import asyncio
import time

import pytest
from aiogram.exceptions import TelegramConflictError

from tests.playground.conftest import USER_ID


async def test_acknowledged_updates_never_return(bot, user_api):
    for text in ("one", "two", "three"):
        await user_api.send_text(USER_ID, text)
    first = await bot.get_updates()

    rest = await bot.get_updates(offset=first[1].update_id)
    again = await bot.get_updates()

    assert [u.message.text for u in first] == ["one", "two", "three"]
    assert [u.message.text for u in rest] == [u.message.text for u in again] == ["two", "three"]


async def test_limit_and_negative_offset(bot, user_api):
    for number in range(5):
        await user_api.send_text(USER_ID, f"m{number}")

    limited = await bot.get_updates(limit=2)
    last = await bot.get_updates(offset=-1)

    assert [u.message.text for u in limited] == ["m0", "m1"]
    assert [u.message.text for u in last] == ["m4"]
    assert [u.message.text for u in await bot.get_updates()] == ["m4"]


async def test_long_poll_returns_as_soon_as_an_update_arrives(bot, user_api):
    started = time.monotonic()
    polling = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)

    await user_api.send_text(USER_ID, "hello")
    updates = await polling

    assert [u.message.text for u in updates] == ["hello"]
    assert time.monotonic() - started < 2


async def test_long_poll_waits_out_its_timeout_when_nothing_comes(bot):
    started = time.monotonic()

    assert await bot.get_updates(timeout=1) == []
    assert 0.9 <= time.monotonic() - started < 3


async def test_a_new_get_updates_terminates_the_waiting_one(bot, user_api):
    waiting = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)

    newcomer = await bot.get_updates(timeout=0)

    with pytest.raises(TelegramConflictError, match="only one bot instance is running"):
        await waiting
    assert newcomer == []
    assert [(c["ok"], c["error_code"]) for c in await user_api.calls("getUpdates")] == [(True, None), (False, 409)]


async def test_allowed_updates_filter_what_is_queued(bot, user_api, chat_id):
    await bot.get_updates(allowed_updates=["callback_query"])
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = await bot.send_message(chat_id, "Pick", reply_markup=markup)

    await user_api.send_text(chat_id, "ignored")
    await user_api.press(chat_id, sent.message_id, data="a")

    kinds = [u.event_type for u in await bot.get_updates()]
    assert kinds == ["message", "callback_query"]  # the /start came before the filter was set


async def test_drop_pending_updates(bot, user_api):
    await user_api.send_text(USER_ID, "stale")

    await bot.delete_webhook(drop_pending_updates=True)

    assert await bot.get_updates() == []
