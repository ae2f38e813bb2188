"""The page's side of the stand-in without a browser: the event stream, the files and the page itself."""

import asyncio
import io
import json
import time

import aiohttp
import pytest
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, InlineKeyboardButton, InlineKeyboardMarkup
from PIL import Image

from shopshot.playground.standin import StandIn

USER = 7201


class EventStream:
    """A reader of one text/event-stream response: `await stream.next()` -> (event, data)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, timeout: float = 5.0) -> tuple[str, object]:
        name, data = "message", []
        async with asyncio.timeout(timeout):
            while True:
                line = (await self.response.content.readline()).decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    data.append(line.removeprefix("data: "))
                elif not line and data:
                    return name, json.loads("\n".join(data))

    async def expect(self, name: str) -> object:
        """The next event, which must be `name`."""
        received, data = await self.next()
        assert received == name, (received, data)
        return data


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def events(http, stand_in):
    async def open_stream(user_id: int = USER, language: str = "en") -> EventStream:
        response = await http.get(f"{stand_in}/_playground/users/{user_id}/events", params={"lang": language})
        assert response.headers["Content-Type"].startswith("text/event-stream")
        return EventStream(response)

    return open_stream


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), "teal").save(buffer, "PNG")
    return buffer.getvalue()


async def test_a_snapshot_then_each_change_as_it_happens(events, api, as_bot):
    await api.send_text(USER, "/start")
    stream = await events()
    snapshot = await stream.expect("snapshot")
    assert snapshot["bot"]["username"] == "shopshot_local_bot" and snapshot["commands"] == []
    [start] = snapshot["messages"]
    assert start["text"] == "/start" and start["entities"][0]["type"] == "bot_command" and not start["from_bot"]

    sent = await as_bot.send_message(USER, "<i>Hi</i>", parse_mode="HTML")
    view = await stream.expect("upsert")
    assert view["id"] == sent.message_id and view["from_bot"] and view["text"] == "Hi"
    assert view["entities"] == [{"type": "italic", "offset": 0, "length": 2}] and not view["edited"]
    await as_bot.edit_message_text("Bye", chat_id=USER, message_id=sent.message_id)
    edited = await stream.expect("upsert")
    assert edited["id"] == sent.message_id and edited["text"] == "Bye" and edited["edited"]
    await as_bot.delete_message(USER, sent.message_id)
    assert await stream.expect("delete") == {"id": sent.message_id}


async def test_answers_become_toasts_for_their_user_only(events, api, as_bot):
    await api.send_text(USER, "hi")
    await api.send_text(USER + 1, "hi")
    mine, theirs = await events(USER), await events(USER + 1)
    await mine.expect("snapshot")
    await theirs.expect("snapshot")
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="a")]])
    sent = await as_bot.send_message(USER, "Pick", reply_markup=keyboard)
    assert (await mine.expect("upsert"))["keyboard"] == [[{"text": "A", "callback_data": "a"}]]
    query_id = await api.press(USER, sent.message_id, data="a")
    await as_bot.answer_callback_query(query_id, text="Done!", show_alert=True)
    assert await mine.expect("answer") == {"message_id": sent.message_id, "text": "Done!", "show_alert": True}
    await api.send_text(USER + 1, "still here")
    assert (await theirs.expect("upsert"))["text"] == "still here"  # nothing of USER's came first


async def test_the_command_menu_follows_scope_and_language(events, api, as_bot):
    await api.send_text(USER, "hi")
    await as_bot.set_my_commands([BotCommand(command="start", description="Start over")])
    await as_bot.set_my_commands([BotCommand(command="start", description="重新开始")], language_code="zh")
    chinese, portuguese = await events(language="zh-hans"), await events(language="pt-br")
    assert (await chinese.expect("snapshot"))["commands"] == [{"command": "start", "description": "重新开始"}]
    assert (await portuguese.expect("snapshot"))["commands"] == [{"command": "start", "description": "Start over"}]
    private = [BotCommand(command="help", description="Help")]
    await as_bot.set_my_commands(private, scope=BotCommandScopeAllPrivateChats())
    assert await portuguese.expect("commands") == [{"command": "help", "description": "Help"}]


async def test_photos_and_files_are_served_with_their_types_and_document_albums_are_one_group(http, api, stand_in):
    photo_id = await api.send_photo(USER, _png())
    form = aiohttp.FormData()
    for name in ("a.png", "b.bin"):
        form.add_field("document", _png(), filename=name, content_type="application/octet-stream")
    async with http.post(f"{stand_in}/_playground/users/{USER}/documents", data=form) as response:
        assert response.status == 200
        ids = (await response.json())["message_ids"]
    history = {m["message_id"]: m for m in await api.history(USER)}
    files = [history[message_id] for message_id in ids]
    assert [f["mime_type"] for f in files] == ["image/png", "application/octet-stream"]
    assert files[0]["media_group_id"] == files[1]["media_group_id"] is not None
    async with http.get(f"{stand_in}/_playground/files/{history[photo_id]['file_id']}") as response:
        assert response.content_type == "image/jpeg" and (await response.read())[:2] == b"\xff\xd8"
    async with http.get(f"{stand_in}/_playground/files/{files[0]['file_id']}") as response:
        assert response.content_type == "image/png" and await response.read() == _png()
    async with http.get(f"{stand_in}/_playground/files/nope") as response:
        assert response.status == 404


async def test_a_document_album_needs_two_to_ten_files(http, stand_in):
    form = aiohttp.FormData()
    form.add_field("document", b"one", filename="one.txt")
    async with http.post(f"{stand_in}/_playground/users/{USER}/documents", data=form) as response:
        assert response.status == 400 and "2-10" in (await response.json())["error"]


async def test_the_page_and_its_files_are_served(http, stand_in):
    async with http.get(f"{stand_in}/") as response:
        page = await response.text()
        assert response.content_type == "text/html" and '<script src="/web/app.js"' in page
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        async with http.get(f"{stand_in}/web/{name}") as response:
            assert response.status == 200 and kind in response.content_type
    for name in ("index.html", "..%2F_web.py", "nothing.js"):
        async with http.get(f"{stand_in}/web/{name}") as response:
            assert response.status == 404


async def test_stopping_the_stand_in_ends_open_streams_at_once():
    server = StandIn()
    url = await server.start()
    async with aiohttp.ClientSession() as session:
        response = await session.get(f"{url}/_playground/users/{USER}/events")
        stream = EventStream(response)
        await stream.expect("snapshot")
        started = time.monotonic()
        await server.stop()
        assert time.monotonic() - started < 0.9  # under the 1 s after which aiohttp would cancel it
        assert await response.content.read() == b""
