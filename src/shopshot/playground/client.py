"""An async client for the stand-in's control API: act as Telegram users, watch what the bot does.

async with StandInClient(stand_in.url) as user_api:
    await user_api.send_text(42, "/start")
    menu = await user_api.wait_for(42, lambda msgs: msgs[-1] if msgs and msgs[-1]["reply_markup"] else None)
    await user_api.press(42, menu["message_id"], text="Studio")
"""

import asyncio
import json
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp

T = TypeVar("T")
POLL_INTERVAL_S = 0.05


class StandInClient:
    """Control-API calls over one aiohttp session; use as an async context manager."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send_text(self, user_id: int, text: str, *, language_code: str = "en") -> int:
        """The user types `text`; returns its message_id."""
        body = await self._post(f"users/{user_id}/text", json={"text": text, "language_code": language_code})
        return body["message_id"]

    async def send_photo(
        self,
        user_id: int,
        data: bytes,
        *,
        caption: str | None = None,
        language_code: str = "en",
        media_group_id: str | None = None,
    ) -> int:
        """The user sends a picture as a photo (the bot gets Telegram's recompressed sizes)."""
        form = _form(language_code, caption=caption, media_group_id=media_group_id)
        form.add_field("photo", data, filename="photo.jpg", content_type="image/jpeg")
        return (await self._post(f"users/{user_id}/photo", data=form))["message_id"]

    async def send_document(
        self,
        user_id: int,
        data: bytes,
        filename: str,
        *,
        mime_type: str | None = None,
        language_code: str = "en",
    ) -> int:
        """The user sends a file, kept byte for byte."""
        form = _form(language_code, mime_type=mime_type)
        form.add_field("document", data, filename=filename, content_type=mime_type or "application/octet-stream")
        return (await self._post(f"users/{user_id}/document", data=form))["message_id"]

    async def send_album(self, user_id: int, photos: list[bytes], *, language_code: str = "en") -> list[int]:
        """The user sends 2-10 photos at once: one update per photo sharing a media_group_id."""
        form = _form(language_code)
        for number, data in enumerate(photos):
            form.add_field("photo", data, filename=f"photo{number}.jpg", content_type="image/jpeg")
        return (await self._post(f"users/{user_id}/album", data=form))["message_ids"]

    async def send_message_fields(self, user_id: int, fields: dict, *, language_code: str = "en") -> int:
        """Any other kind of message (sticker, voice, video...): fields merged into the Message."""
        body = await self._post(f"users/{user_id}/message", json={"fields": fields, "language_code": language_code})
        return body["message_id"]

    async def press(
        self,
        user_id: int,
        message_id: int,
        *,
        data: str | None = None,
        text: str | None = None,
        language_code: str = "en",
        inaccessible: bool = False,
    ) -> str:
        """Tap an inline button chosen by callback_data and/or label; LookupError if there is none.

        `inaccessible`: the bot gets the message as Telegram sends one it can no longer see (date 0).
        """
        payload = {
            "message_id": message_id,
            "data": data,
            "text": text,
            "language_code": language_code,
            "inaccessible": inaccessible,
        }
        return (await self._post(f"users/{user_id}/press", json=payload))["callback_query_id"]

    async def pay(
        self, user_id: int, *, message_id: int | None = None, link: str | None = None, language_code: str = "en"
    ) -> dict:
        """The user pays an invoice (message or link): {"paid": True, "telegram_payment_charge_id"} or {"paid": False, "error_message"}."""
        payload = {"message_id": message_id, "link": link, "language_code": language_code}
        return await self._post(f"users/{user_id}/pay", json=payload)

    async def forge_callback(self, user_id: int, message_id: int, data: str) -> str:
        """A callback query with arbitrary data, as a tampered client could send."""
        payload = {"message_id": message_id, "data": data}
        return (await self._post(f"users/{user_id}/callback", json=payload))["callback_query_id"]

    async def messages(self, user_id: int) -> list[dict]:
        """The bot's messages in that chat, in order, as they look now."""
        return await self._get(f"users/{user_id}/messages")

    async def history(self, user_id: int) -> list[dict]:
        """Every message left in the chat from both sides, each with "from_bot"."""
        return await self._get(f"users/{user_id}/history")

    async def wait_for(self, user_id: int, predicate: Callable[[list[dict]], T], timeout: float = 30.0) -> T:
        """Poll messages() until predicate returns something truthy, and return that."""
        deadline = time.monotonic() + timeout
        while True:
            current = await self.messages(user_id)
            result = predicate(current)
            if result:
                return result
            if time.monotonic() >= deadline:
                raise TimeoutError(f"gave up after {timeout} s; the bot's messages:\n{_describe(current)}")
            await asyncio.sleep(POLL_INTERVAL_S)

    async def download(self, file_id: str) -> bytes:
        """The stored bytes of a file_id (sent by the bot or by a user)."""
        async with self._request("GET", f"files/{file_id}") as response:
            await _raise_for_error(response)
            return await response.read()

    async def callback_answers(self, user_id: int) -> list[dict]:
        """The bot's answers to that user's button presses, in answer order: callback_query_id,
        message_id, data, text, show_alert, url, cache_time."""
        return await self._get(f"users/{user_id}/callback_answers")

    async def calls(self, method: str | None = None) -> list[dict]:
        """The Bot API calls received: method, time (time.monotonic() on arrival), chat_id, ok, error_code."""
        return await self._get("calls", params={"method": method} if method else None)

    async def inject_fault(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        count: int = 1,
        delay_s: float = 0.0,
        description: str | None = None,
    ) -> None:
        """The next `count` calls of `method` wait delay_s, then fail with `status` (below 400: only wait)."""
        payload = {
            "method": method,
            "status": status,
            "retry_after": retry_after,
            "count": count,
            "delay_s": delay_s,
            "description": description,
        }
        await self._post("faults", json=payload)

    async def set_rate_limit(self, calls_per_s: int | None) -> None:
        """Answer Bot API calls beyond `calls_per_s` in any second with 429 (None: no limit; 30 at start)."""
        await self._post("rate_limit", json={"calls_per_s": calls_per_s})

    async def reset(self) -> None:
        """Forget chats, files, faults and logs."""
        await self._post("reset")

    async def _get(self, path: str, params: dict | None = None) -> Any:
        async with self._request("GET", path, params=params) as response:
            await _raise_for_error(response)
            return await response.json()

    async def _post(self, path: str, **kwargs: Any) -> Any:
        async with self._request("POST", path, **kwargs) as response:
            await _raise_for_error(response)
            return await response.json()

    def _request(self, method: str, path: str, **kwargs: Any):
        if self._session is None:
            raise RuntimeError("use StandInClient as `async with StandInClient(url) as client:`")
        return self._session.request(method, f"{self.base_url}/_control/{path}", **kwargs)


def _form(language_code: str, **fields: str | None) -> aiohttp.FormData:
    # File names go as written, as a Telegram app sends them (quoted, aiohttp would percent-encode "Café.jpg").
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("language_code", language_code)
    for name, value in fields.items():
        if value is not None:
            form.add_field(name, value)
    return form


async def _raise_for_error(response: aiohttp.ClientResponse) -> None:
    if response.status < 400:
        return
    try:
        message = (await response.json()).get("error", response.reason)
    except (aiohttp.ContentTypeError, ValueError):
        message = await response.text()
    raise (LookupError if response.status == 404 else ValueError)(message)


def _describe(messages: list[dict]) -> str:
    return "\n".join(json.dumps(m, ensure_ascii=False) for m in messages[-10:]) or "(none)"
