"""The control client: acting as users and reading back what the bot did; no other site's page may."""

import json
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiogram.types import BufferedInputFile, InaccessibleMessage, InlineKeyboardButton, InlineKeyboardMarkup

from tests.playground.conftest import USER_ID
from tests.playground.pictures import format_of, picture, size_of

MENU = InlineKeyboardMarkup(
    inline_keyboard=[
        [
            InlineKeyboardButton(text="Marble", callback_data="bg:marble"),
            InlineKeyboardButton(text="Linen", callback_data="bg:linen"),
        ],
        [InlineKeyboardButton(text="Help", url="https://example.com/help")],
    ]
)


async def test_a_user_photo_arrives_recompressed_as_a_size_array(bot, user_api):
    original = picture(4000, 3000, "PNG")

    await user_api.send_photo(USER_ID, original, caption="my mug")
    message = (await bot.get_updates())[0].message

    largest = message.photo[-1]
    assert max(largest.width, largest.height) == 1280 and message.caption == "my mug"
    assert [max(p.width, p.height) for p in message.photo] == [90, 320, 800, 1280]
    received = (await bot.download(largest.file_id)).read()
    assert format_of(received) == "JPEG" and size_of(received) == (1280, 960) and received != original


async def test_a_small_user_photo_keeps_its_size_but_not_its_bytes(bot, user_api):
    original = picture(640, 480)

    await user_api.send_photo(USER_ID, original)
    largest = (await bot.get_updates())[0].message.photo[-1]

    received = (await bot.download(largest.file_id)).read()
    assert (largest.width, largest.height) == (640, 480) and received != original


async def test_a_user_document_arrives_byte_identical(bot, user_api):
    original = picture(5000, 4000, "PNG")

    await user_api.send_document(USER_ID, original, "product.png", mime_type="image/png")
    document = (await bot.get_updates())[0].message.document

    assert (document.file_name, document.mime_type, document.file_size) == ("product.png", "image/png", len(original))
    assert (await bot.download(document.file_id)).read() == original


async def test_an_album_is_one_update_per_photo_sharing_a_group(bot, user_api):
    ids = await user_api.send_album(USER_ID, [picture(300, 200), picture(200, 300), picture(250, 250)])

    messages = [u.message for u in await bot.get_updates()]

    assert [m.message_id for m in messages] == ids == [1, 2, 3]
    assert len({m.media_group_id for m in messages}) == 1 and messages[0].media_group_id is not None


async def test_commands_carry_a_bot_command_entity(bot, user_api):
    await user_api.send_text(USER_ID, "/start", language_code="de")

    message = (await bot.get_updates())[0].message

    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]
    assert (message.from_user.language_code, message.from_user.is_bot, message.chat.type) == ("de", False, "private")


async def test_other_message_kinds(bot, user_api):
    sticker = {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}

    await user_api.send_message_fields(USER_ID, {"sticker": sticker})
    message = (await bot.get_updates())[0].message

    assert message.sticker.width == 512 and message.sticker.file_id
    assert [m["kind"] for m in await user_api.history(USER_ID)] == ["sticker"]


async def test_press_by_label_and_by_data(bot, user_api, chat_id):
    sent = await bot.send_message(chat_id, "Pick a backdrop", reply_markup=MENU)

    by_label = await user_api.press(chat_id, sent.message_id, text="Linen")
    by_data = await user_api.press(chat_id, sent.message_id, data="bg:marble", language_code="fr")

    queries = [u.callback_query for u in await bot.get_updates() if u.callback_query]
    assert [(q.id, q.data) for q in queries] == [(by_label, "bg:linen"), (by_data, "bg:marble")]
    assert queries[1].from_user.language_code == "fr" and queries[0].message.text == "Pick a backdrop"
    assert queries[0].chat_instance == queries[1].chat_instance


async def test_pressing_a_missing_button_raises_lookup_error(bot, user_api, chat_id):
    sent = await bot.send_message(chat_id, "Pick", reply_markup=MENU)

    with pytest.raises(LookupError, match="no button"):
        await user_api.press(chat_id, sent.message_id, text="Velvet")
    with pytest.raises(LookupError, match="sends no callback query"):
        await user_api.press(chat_id, sent.message_id, text="Help")
    await bot.edit_message_reply_markup(chat_id=chat_id, message_id=sent.message_id)
    with pytest.raises(LookupError):
        await user_api.press(chat_id, sent.message_id, data="bg:marble")
    with pytest.raises(LookupError):
        await user_api.press(chat_id, 1, data="bg:marble")  # the user's own /start


async def test_forged_callbacks_carry_any_data(bot, user_api, chat_id):
    sent = await bot.send_message(chat_id, "Pick", reply_markup=MENU)
    await bot.delete_message(chat_id, sent.message_id)

    forged = await user_api.forge_callback(chat_id, sent.message_id, "bg:../../etc/passwd")
    query = (await bot.get_updates())[-1].callback_query

    assert (query.id, query.data) == (forged, "bg:../../etc/passwd")
    assert isinstance(query.message, InaccessibleMessage)  # deleted, so the bot cannot see it


async def test_messages_and_history(bot, user_api, chat_id):
    upload = BufferedInputFile(picture(900, 600), "p.jpg")
    photo = await bot.send_photo(chat_id, upload, caption="<b>Done</b>", parse_mode="HTML")
    await user_api.send_text(chat_id, "thanks")

    shown = await user_api.messages(chat_id)
    both = await user_api.history(chat_id)

    assert [(m["kind"], m["caption"], m["width"], m["file_id"]) for m in shown] == [
        ("photo", "<b>Done</b>", 900, photo.photo[-1].file_id)
    ]
    assert [(m["from_bot"], m["kind"], m["text"]) for m in both] == [
        (False, "text", "/start"),
        (True, "photo", None),
        (False, "text", "thanks"),
    ]


async def test_wait_for_returns_the_predicate_value_or_times_out(bot, user_api, chat_id):
    await bot.send_message(chat_id, "ready")

    found = await user_api.wait_for(chat_id, lambda msgs: [m for m in msgs if m["text"] == "ready"], timeout=1)

    assert found[0]["text"] == "ready"
    with pytest.raises(TimeoutError, match='"text": "ready"'):
        await user_api.wait_for(chat_id, lambda msgs: None, timeout=0.2)


async def test_a_user_photo_must_be_an_image(user_api):
    with pytest.raises(ValueError, match="IMAGE_PROCESS_FAILED"):
        await user_api.send_photo(USER_ID, b"\x00\x01 not an image")


async def test_reset_forgets_everything(bot, user_api, chat_id):
    await bot.send_message(chat_id, "hello")
    await user_api.inject_fault("sendMessage", status=500)

    await user_api.reset()

    assert await user_api.messages(chat_id) == [] and await user_api.calls() == []
    assert await bot.get_updates() == []
    await user_api.send_text(chat_id, "again")
    assert (await bot.send_message(chat_id, "fresh")).message_id == 2


async def _request(method: str, url: str, headers: dict) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=json.dumps({"text": "/forget"}), headers=headers) as response,
    ):
        return response.status


async def test_pages_of_other_sites_cannot_drive_or_read_the_stand_in(stand_in, user_api):
    port, text = urlsplit(stand_in.url).port, f"{stand_in.url}/_control/users/{USER_ID}/text"
    rebound = {
        "Host": f"evil.example:{port}",
        "Origin": f"http://evil.example:{port}",
    }  # DNS rebinding: same-origin to the browser
    for headers in (
        {"Content-Type": "text/plain", "Origin": "http://evil.example"},
        {"Content-Type": "text/plain", "Origin": "null"},
        {"Origin": f"http://localhost:{port}"},
        rebound,
        {"Host": f"evil.example:{port}"},
    ):
        assert await _request("POST", text, headers) == 403, headers
    assert await _request("GET", f"{stand_in.url}/_control/users/{USER_ID}/history", rebound) == 403
    assert await user_api.history(USER_ID) == []
    for headers in ({}, {"Origin": stand_in.url}, {"Host": f"localhost:{port}", "Origin": f"http://localhost:{port}"}):
        assert await _request("POST", text, headers) == 200, headers  # clients, and the chat page on either name
    assert len(await user_api.history(USER_ID)) == 3
