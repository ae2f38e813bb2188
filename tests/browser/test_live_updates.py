"""The chat page follows the stand-in live, with the bot's side played by hand through aiogram."""

import io

from aiogram.types import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from PIL import Image

USER = 7101


def _picture(path, colour) -> None:
    image = Image.new("RGB", (640, 480), colour)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())


async def _next_callback_query(bot, polls: int = 6):
    """Long-polls past the chat's earlier messages (the "hello" is already queued when the tap is clicked)."""
    offset = None
    for _ in range(polls):
        for update in await bot.get_updates(offset=offset, timeout=5):
            if update.callback_query:
                return update.callback_query
            offset = update.update_id + 1
    raise AssertionError(f"no callback query in {polls} long polls")


async def test_several_photos_make_one_album_and_several_files_one_document_album(open_chat, api, shots, tmp_path):
    paths = [tmp_path / f"product-{n}.png" for n in range(3)]
    for path, colour in zip(paths, ("tomato", "teal", "gold")):
        _picture(path, colour)
    chat = await open_chat(USER)
    await chat.attach(paths, as_photos=True)
    await chat.page.locator(".row.out .grid img.photo").nth(2).wait_for()
    await chat.attach(paths[:2], as_photos=False)
    await chat.page.locator(".row.out a.file").nth(1).wait_for()
    await shots.take(chat.page, "albums")

    history = await api.history(USER)
    photos = [m for m in history if m["kind"] == "photo"]
    files = [m for m in history if m["kind"] == "document"]
    assert len(photos) == 3 and len({m["media_group_id"] for m in photos}) == 1 and photos[0]["media_group_id"]
    assert [m["file_name"] for m in files] == ["product-0.png", "product-1.png"]
    assert len({m["media_group_id"] for m in files}) == 1 and files[0]["media_group_id"]
    assert files[0]["mime_type"] == "image/png"
    assert await chat.page.locator(".row.out").count() == 2  # one row per album


async def test_the_bot_s_messages_edits_deletions_answers_and_commands_show_live(open_chat, api, as_bot, shots):
    chat = await open_chat(USER)
    await chat.send("hello")
    await chat.page.locator(".row.out", has_text="hello").wait_for()
    assert await chat.page.locator("#menu").is_hidden()
    await as_bot.set_my_commands([BotCommand(command="start", description="Start over")])
    await chat.page.locator("#menu").wait_for()

    keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Tap me", callback_data="tap")]])
    sent = await as_bot.send_message(
        USER,
        '<b>Bold</b> and <a href="https://example.com/">a link</a>, try /help',
        parse_mode="HTML",
        reply_markup=keyboard,
    )
    bubble = chat.page.locator(f'.bubble[data-message-id="{sent.message_id}"]')
    await bubble.wait_for()
    assert await bubble.locator("b").text_content() == "Bold"
    assert await bubble.locator("a").get_attribute("href") == "https://example.com/"
    assert await bubble.locator(".command").text_content() == "/help"
    await bubble.evaluate("(node) => { node.closest('.row').dataset.marked = 'yes'; }")

    await chat.key("Tap me").click()
    query = await _next_callback_query(as_bot)
    assert query.data == "tap" and query.message.message_id == sent.message_id
    await as_bot.answer_callback_query(query.id, text="Tapped!")
    await chat.page.locator("#toast", has_text="Tapped!").wait_for()
    await shots.take(chat.page, "toast")

    await as_bot.edit_message_text("Edited text", chat_id=USER, message_id=sent.message_id)
    await chat.page.locator(".bubble", has_text="Edited text").wait_for()
    row = chat.page.locator(".row", has=chat.page.locator(f'[data-message-id="{sent.message_id}"]'))
    assert await row.get_attribute("data-marked") == "yes"  # the same row, changed in place
    assert "edited" in await row.text_content() and await row.locator(".key").count() == 0

    await as_bot.delete_message(USER, sent.message_id)
    await bubble.wait_for(state="detached")
    assert await chat.page.locator(".row").count() == 1
