"""The stand-in driven by aiogram's Bot, as the shopshot bot drives it."""

import time

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
)

from tests.playground.conftest import LocalSession
from tests.playground.pictures import format_of, picture, size_of


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data)] for label, data in pairs]
    )


def photo_file(width: int = 1600, height: int = 1200) -> BufferedInputFile:
    return BufferedInputFile(picture(width, height), filename="product.jpg")


async def test_get_me_describes_the_bot(bot):
    me = await bot.get_me()

    assert (me.id, me.is_bot, me.username) == (1234567, True, "shopshot_local_bot")


async def test_a_wrong_token_is_unauthorized(stand_in):
    session = LocalSession(api=TelegramAPIServer.from_base(stand_in.url))
    stranger = Bot("7654321:not-the-stand-in-token", session=session)

    with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
        await stranger.get_me()
    await session.close()


async def test_send_message_parses_html_and_keeps_the_source(bot, user_api, chat_id):
    sent = await bot.send_message(
        chat_id, "<b>Studio</b> &amp; more", parse_mode="HTML", reply_markup=keyboard(("Go", "go"))
    )

    assert sent.text == "Studio & more"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 6)]
    assert sent.from_user.is_bot and sent.chat.type == "private" and sent.chat.id == chat_id
    shown = (await user_api.messages(chat_id))[-1]
    assert shown["text"] == "<b>Studio</b> &amp; more"
    assert shown["reply_markup"] == {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}


async def test_message_ids_count_up_in_the_chat(bot, chat_id):
    first = await bot.send_message(chat_id, "one")
    second = await bot.send_message(chat_id, "two")

    assert (first.message_id, second.message_id) == (2, 3)  # the user's /start was 1


async def test_text_length_is_counted_after_parsing(bot, chat_id):
    await bot.send_message(chat_id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")

    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(chat_id, "a" * 4097)


async def test_malformed_html_is_refused(bot, chat_id):
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "product" at byte offset 5'):
        await bot.send_message(chat_id, "Your <product> is ready", parse_mode="HTML")


async def test_callback_data_over_64_bytes_is_refused(bot, chat_id):
    await bot.send_message(chat_id, "fits", reply_markup=keyboard(("ok", "x" * 64)))

    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(chat_id, "too long", reply_markup=keyboard(("no", "x" * 65)))


async def test_a_chat_the_user_never_opened_is_not_found(bot):
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(999, "hello")


async def test_edit_message_text_returns_the_edited_message(bot, user_api, chat_id):
    sent = await bot.send_message(chat_id, "Pick a backdrop", reply_markup=keyboard(("Marble", "m")))

    edited = await bot.edit_message_text("Working…", chat_id=chat_id, message_id=sent.message_id)

    assert edited.text == "Working…" and edited.edit_date is not None
    assert edited.reply_markup is None  # left out of the edit, so Telegram removes it
    shown = (await user_api.messages(chat_id))[-1]
    assert (shown["text"], shown["edits"], shown["reply_markup"]) == ("Working…", 1, None)


async def test_an_edit_that_changes_nothing_is_not_modified(bot, chat_id):
    markup = keyboard(("Marble", "m"))
    sent = await bot.send_message(chat_id, "Pick", reply_markup=markup)

    with pytest.raises(TelegramBadRequest) as raised:
        await bot.edit_message_text("Pick", chat_id=chat_id, message_id=sent.message_id, reply_markup=markup)

    assert raised.value.message == (
        "Bad Request: message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )


async def test_editing_a_missing_message_fails(bot, chat_id):
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text("x", chat_id=chat_id, message_id=77)


async def test_a_user_message_cannot_be_edited(bot, chat_id):
    with pytest.raises(TelegramBadRequest, match="Bad Request: message can't be edited"):
        await bot.edit_message_text("x", chat_id=chat_id, message_id=1)


async def test_caption_and_keyboard_edits(bot, user_api, chat_id):
    sent = await bot.send_photo(chat_id, photo_file(), caption="before")

    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=chat_id, message_id=sent.message_id)
    captioned = await bot.edit_message_caption(chat_id=chat_id, message_id=sent.message_id, caption="after")
    marked = await bot.edit_message_reply_markup(
        chat_id=chat_id, message_id=sent.message_id, reply_markup=keyboard(("Again", "again"))
    )

    assert captioned.caption == "after" and marked.caption == "after"
    shown = (await user_api.messages(chat_id))[-1]
    assert shown["edits"] == 2 and shown["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "again"


async def test_delete_message_removes_it_once(bot, user_api, chat_id):
    sent = await bot.send_message(chat_id, "temporary")

    assert await bot.delete_message(chat_id, sent.message_id) is True
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await bot.delete_message(chat_id, sent.message_id)
    assert await user_api.messages(chat_id) == []


async def test_send_photo_stores_telegram_like_sizes(bot, chat_id):
    sent = await bot.send_photo(chat_id, BufferedInputFile(picture(3000, 2000, "PNG"), "p.png"))

    assert [(s.width, s.height) for s in sent.photo] == [(90, 60), (320, 213), (800, 533), (1280, 853)]
    assert len({s.file_id for s in sent.photo}) == len({s.file_unique_id for s in sent.photo}) == 4
    largest = (await bot.download(sent.photo[-1].file_id)).read()
    assert len(largest) == sent.photo[-1].file_size
    assert (format_of(largest), size_of(largest)) == ("JPEG", (1280, 853))


async def test_photo_sizes_stop_at_the_original_size(bot, chat_id):
    sent = await bot.send_photo(chat_id, photo_file(500, 300))

    assert [(s.width, s.height) for s in sent.photo] == [(90, 54), (320, 192), (500, 300)]


async def test_a_photo_resent_by_file_id_keeps_its_sizes(bot, chat_id):
    first = await bot.send_photo(chat_id, photo_file())

    again = await bot.send_photo(chat_id, first.photo[-1].file_id)

    assert [s.file_id for s in again.photo] == [s.file_id for s in first.photo]


async def test_bytes_that_are_no_image_cannot_be_a_photo(bot, chat_id):
    with pytest.raises(TelegramBadRequest, match="Bad Request: IMAGE_PROCESS_FAILED"):
        await bot.send_photo(chat_id, BufferedInputFile(b"not an image", "x.jpg"))


@pytest.mark.parametrize("size", [(10_001, 10), (2100, 100), (4058, 7214)])
async def test_photo_dimension_limits(bot, chat_id, size):
    # Width + height over 10,000, sides over 20:1, and the attack's 12-MP photo rendered at 9:16.
    with pytest.raises(TelegramBadRequest, match="^Telegram server says - Bad Request: PHOTO_INVALID_DIMENSIONS$"):
        await bot.send_photo(chat_id, BufferedInputFile(picture(*size, "PNG"), "wide.png"))


@pytest.mark.parametrize("size", [(9_000, 1_000), (2000, 100)])
async def test_photos_at_the_dimension_limits_are_taken(bot, chat_id, size):
    sent = await bot.send_photo(chat_id, BufferedInputFile(picture(*size, "PNG"), "wide.png"))

    assert sent.photo[-1].width == 1280


async def test_photos_over_10_mb_are_refused(bot, chat_id):
    size = 10 * 1024 * 1024 + 1
    with pytest.raises(TelegramBadRequest) as refused:
        await bot.send_photo(chat_id, BufferedInputFile(b"\xff" * size, "huge.jpg"))

    assert (
        refused.value.message
        == f"Bad Request: file of size {size} bytes is too big for a photo; the maximum size is 10485760 bytes"
    )


async def test_an_album_with_a_photo_over_the_limits_is_refused_whole(bot, user_api, chat_id):
    media = [InputMediaPhoto(media=BufferedInputFile(picture(*size), "p.jpg")) for size in ((800, 600), (4058, 7214))]
    with pytest.raises(TelegramBadRequest, match="PHOTO_INVALID_DIMENSIONS"):
        await bot.send_media_group(chat_id, media)

    assert not [m for m in await user_api.messages(chat_id) if m["kind"] == "photo"]


async def test_send_document_keeps_the_file_untouched(bot, user_api, chat_id):
    original = picture(2000, 1500, "PNG")

    sent = await bot.send_document(chat_id, BufferedInputFile(original, "studio-1.png"))

    assert (sent.document.file_name, sent.document.mime_type) == ("studio-1.png", "image/png")
    assert (await bot.download(sent.document.file_id)).read() == original
    assert await user_api.download(sent.document.file_id) == original


async def test_media_group_messages_share_an_id(bot, user_api, chat_id):
    media = [InputMediaPhoto(media=photo_file(), caption="first"), InputMediaPhoto(media=photo_file(800, 800))]

    sent = await bot.send_media_group(chat_id, media)

    assert len({m.media_group_id for m in sent}) == 1 and sent[0].media_group_id is not None
    assert [m.caption for m in sent] == ["first", None]
    shown = await user_api.messages(chat_id)
    assert [(m["kind"], m["media_group_id"]) for m in shown] == [("photo", sent[0].media_group_id)] * 2


async def test_a_media_group_of_documents(bot, chat_id):
    files = [BufferedInputFile(b"%d" % n, f"f{n}.txt") for n in range(3)]

    sent = await bot.send_media_group(chat_id, [InputMediaDocument(media=f) for f in files])

    assert [m.document.file_name for m in sent] == ["f0.txt", "f1.txt", "f2.txt"]


@pytest.mark.parametrize(
    ("count", "description"),
    [(1, "media group must include 2-10 items"), (11, "too many messages to send as an album")],
)
async def test_media_groups_hold_two_to_ten_items(bot, chat_id, count, description):
    first = await bot.send_photo(chat_id, photo_file(400, 300))
    media = [InputMediaPhoto(media=first.photo[-1].file_id) for _ in range(count)]

    with pytest.raises(TelegramBadRequest, match=description):
        await bot.send_media_group(chat_id, media)


async def test_documents_do_not_mix_with_photos(bot, chat_id):
    media = [InputMediaPhoto(media=photo_file()), InputMediaDocument(media=BufferedInputFile(b"x", "x.txt"))]

    with pytest.raises(TelegramBadRequest, match="document can't be mixed with other media types"):
        await bot.send_media_group(chat_id, media)


async def test_chat_action_and_commands(bot, chat_id):
    commands = [BotCommand(command="start", description="Begin"), BotCommand(command="help", description="Help")]

    assert await bot.send_chat_action(chat_id, "upload_photo") is True
    assert await bot.set_my_commands(commands) is True
    assert [(c.command, c.description) for c in await bot.get_my_commands()] == [("start", "Begin"), ("help", "Help")]
    assert await bot.get_my_commands(language_code="de") == []
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == []


async def test_a_callback_query_is_answered_once(bot, user_api, chat_id):
    sent = await bot.send_message(chat_id, "Pick", reply_markup=keyboard(("Marble", "m")))
    query_id = await user_api.press(chat_id, sent.message_id, data="m")

    assert await bot.answer_callback_query(query_id, text="Saved", show_alert=True) is True
    with pytest.raises(TelegramBadRequest, match="query is too old and response timeout expired"):
        await bot.answer_callback_query(query_id)
    answers = await user_api.callback_answers(chat_id)
    assert [(a["callback_query_id"], a["data"], a["text"], a["show_alert"]) for a in answers] == [
        (query_id, "m", "Saved", True)
    ]


async def test_injected_429_surfaces_as_retry_after(bot, user_api, chat_id):
    await user_api.inject_fault("sendMessage", status=429, retry_after=3)

    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(chat_id, "first try")
    await bot.send_message(chat_id, "second try")

    assert raised.value.retry_after == 3
    assert [(c["ok"], c["error_code"]) for c in await user_api.calls("sendMessage")] == [(False, 429), (True, None)]


async def test_injected_5xx_and_delays(bot, user_api, chat_id):
    await user_api.inject_fault("sendPhoto", status=502, count=2)
    await user_api.inject_fault("sendMessage", status=200, delay_s=0.3)

    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Bad Gateway"):
            await bot.send_photo(chat_id, photo_file(400, 300))
    started = time.monotonic()
    await bot.send_message(chat_id, "slow but fine")

    assert time.monotonic() - started >= 0.3
    assert (await bot.send_photo(chat_id, photo_file(400, 300))).photo


async def test_the_call_log_names_method_and_chat(bot, user_api, chat_id):
    await bot.send_message(chat_id, "hello")
    with pytest.raises(TelegramBadRequest):
        await bot.delete_message(chat_id, 99)

    logged = [(c["method"], c["chat_id"], c["ok"], c["error_code"]) for c in await user_api.calls()]

    assert logged == [("sendMessage", chat_id, True, None), ("deleteMessage", chat_id, False, 400)]


async def test_get_file_and_unknown_file_ids(bot, chat_id):
    sent = await bot.send_document(chat_id, BufferedInputFile(b"%PDF-1.4", "sheet.pdf"))

    found = await bot.get_file(sent.document.file_id)

    assert found.file_path.startswith("documents/") and found.file_size == 8
    with pytest.raises(TelegramBadRequest, match="Bad Request: invalid file_id"):
        await bot.get_file("no-such-file")


async def test_edit_message_media_puts_another_photo_in_the_message(bot, user_api, chat_id):
    sent = await bot.send_photo(chat_id, photo_file(), caption="page 1", reply_markup=keyboard(("▶", "next")))

    edited = await bot.edit_message_media(
        InputMediaPhoto(media=photo_file(800, 600), caption="page 2"),
        chat_id=chat_id,
        message_id=sent.message_id,
        reply_markup=keyboard(("◀", "back")),
    )
    again = await bot.edit_message_media(
        InputMediaPhoto(media=sent.photo[-1].file_id, caption="page 1"), chat_id=chat_id, message_id=sent.message_id
    )

    assert edited.message_id == sent.message_id and edited.caption == "page 2" and edited.photo[-1].width == 800
    assert again.photo[-1].file_id == sent.photo[-1].file_id and again.reply_markup is None
    shown = await user_api.messages(chat_id)
    assert [(m["kind"], m["caption"], m["edits"]) for m in shown] == [("photo", "page 1", 2)]
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_media(
            InputMediaPhoto(media=sent.photo[-1].file_id, caption="page 1"), chat_id=chat_id, message_id=sent.message_id
        )
