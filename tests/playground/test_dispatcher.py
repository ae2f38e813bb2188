"""The stand-in under a real aiogram Dispatcher polling it, as `make run` and the end-to-end tests use it."""

import asyncio
import time

from aiogram import Dispatcher, F, Router
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from tests.playground.conftest import USER_ID


def demo_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def cmd_start(message: Message) -> None:
        button = InlineKeyboardButton(text="Marble", callback_data="bg:marble")
        await message.answer("Pick a backdrop", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]))

    @router.callback_query(F.data.startswith("bg:"))
    async def backdrop_chosen(query: CallbackQuery) -> None:
        await query.answer("Saved")
        await query.message.edit_text(f"Backdrop: {query.data.removeprefix('bg:')}")

    return router


async def test_a_polling_bot_converses_and_stops_cleanly(bot, user_api):
    dispatcher = Dispatcher()
    dispatcher.include_router(demo_router())
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, polling_timeout=5))

    await user_api.send_text(USER_ID, "/start")
    menu = await user_api.wait_for(USER_ID, lambda msgs: msgs[-1] if msgs else None, timeout=5)
    await user_api.press(USER_ID, menu["message_id"], text="Marble")
    done = await user_api.wait_for(USER_ID, lambda msgs: msgs[-1]["text"].startswith("Backdrop"), timeout=5)
    await dispatcher.stop_polling()
    await asyncio.wait_for(polling, 5)

    assert done
    assert [a["text"] for a in await user_api.callback_answers(USER_ID)] == ["Saved"]
    assert [m["text"] for m in await user_api.messages(USER_ID)] == ["Backdrop: marble"]


async def test_stopping_answers_a_waiting_long_poll(stand_in, bot):
    polling = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.1)
    started = time.monotonic()

    await stand_in.stop()

    assert await asyncio.wait_for(polling, 2) == []
    assert time.monotonic() - started < 2
