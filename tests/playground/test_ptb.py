"""The same methods driven by python-telegram-bot, an independent client with its own encoding habits
(urlencoded forms, uploads under the parameter's own name): the stand-in follows Telegram, not aiogram."""

import asyncio
import datetime as dt

import pytest
import telegram
from telegram.error import BadRequest, Conflict, RetryAfter

from tests.playground.pictures import format_of, picture, size_of


def keyboard(label: str, data: str) -> telegram.InlineKeyboardMarkup:
    return telegram.InlineKeyboardMarkup([[telegram.InlineKeyboardButton(label, callback_data=data)]])


async def test_get_me(ptb_bot):
    me = await ptb_bot.get_me()

    assert (me.username, me.is_bot) == ("shopshot_local_bot", True)


async def test_send_and_edit_message(ptb_bot, user_api, chat_id):
    sent = await ptb_bot.send_message(chat_id, "<i>Pick</i> one", parse_mode="HTML", reply_markup=keyboard("A", "a"))

    edited = await ptb_bot.edit_message_text("Picked", chat_id=chat_id, message_id=sent.message_id)

    assert (sent.text, sent.entities[0].type) == ("Pick one", "italic")
    assert edited.text == "Picked" and edited.edit_date is not None
    assert [m["text"] for m in await user_api.messages(chat_id)] == ["Picked"]


async def test_edit_errors(ptb_bot, chat_id):
    sent = await ptb_bot.send_message(chat_id, "same")

    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await ptb_bot.edit_message_text("same", chat_id=chat_id, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await ptb_bot.edit_message_text("x", chat_id=chat_id, message_id=500)
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await ptb_bot.delete_message(chat_id, 500)


async def test_callback_data_limit(ptb_bot, chat_id):
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await ptb_bot.send_message(chat_id, "x", reply_markup=keyboard("no", "é" * 33))


async def test_photo_uploaded_under_its_own_field_name(ptb_bot, chat_id):
    sent = await ptb_bot.send_photo(chat_id, picture(2000, 1000), caption="shot")

    assert [(p.width, p.height) for p in sent.photo] == [(90, 45), (320, 160), (800, 400), (1280, 640)]
    largest = await (await ptb_bot.get_file(sent.photo[-1].file_id)).download_as_bytearray()
    assert (format_of(bytes(largest)), size_of(bytes(largest))) == ("JPEG", (1280, 640))


async def test_document_round_trip(ptb_bot, chat_id):
    original = b"PK\x03\x04 a zip, kept as sent"

    sent = await ptb_bot.send_document(chat_id, original, filename="results.zip")

    downloaded = await (await ptb_bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == original and sent.document.mime_type == "application/zip"


async def test_media_group(ptb_bot, chat_id):
    media = [telegram.InputMediaPhoto(picture(600, 400), caption=f"#{n}") for n in range(3)]

    sent = await ptb_bot.send_media_group(chat_id, media)

    assert len({m.media_group_id for m in sent}) == 1
    assert [m.caption for m in sent] == ["#0", "#1", "#2"]


@pytest.mark.parametrize(("count", "description"), [(1, "must include 2-10 items"), (11, "too many messages")])
async def test_media_group_size_limits(ptb_bot, chat_id, count, description):
    first = await ptb_bot.send_photo(chat_id, picture(300, 300))
    media = [telegram.InputMediaPhoto(first.photo[-1].file_id)] * count

    with pytest.raises(BadRequest, match=f"(?i){description}"):
        await ptb_bot.send_media_group(chat_id, media)


async def test_callback_query_and_answer(ptb_bot, user_api, chat_id):
    sent = await ptb_bot.send_message(chat_id, "Pick", reply_markup=keyboard("Marble", "bg:marble"))
    start = await ptb_bot.get_updates()
    query_id = await user_api.press(chat_id, sent.message_id, text="Marble")

    updates = await ptb_bot.get_updates(offset=start[-1].update_id + 1, timeout=1)

    query = updates[0].callback_query
    assert (query.id, query.data, query.message.message_id) == (query_id, "bg:marble", sent.message_id)
    assert await ptb_bot.answer_callback_query(query.id, text="ok") is True


async def test_commands(ptb_bot):
    await ptb_bot.set_my_commands([("start", "Begin"), ("language", "Change language")])

    assert [(c.command, c.description) for c in await ptb_bot.get_my_commands()] == [
        ("start", "Begin"),
        ("language", "Change language"),
    ]


async def test_retry_after(ptb_bot, user_api, chat_id, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB's coming behaviour, without its deprecation warning
    await user_api.inject_fault("sendMessage", status=429, retry_after=5)

    with pytest.raises(RetryAfter) as raised:
        await ptb_bot.send_message(chat_id, "x")

    assert raised.value.retry_after == dt.timedelta(seconds=5)


async def test_a_second_instance_ends_the_waiting_long_poll(ptb_bot, stand_in):
    # As on Telegram, the poll already waiting is the one terminated; the newcomer is served.
    waiting = asyncio.create_task(ptb_bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    base = stand_in.url
    async with telegram.Bot(ptb_bot.token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot") as second:
        assert await second.get_updates(timeout=0) == ()

    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await waiting
