"""The `/_control` routes: act as Telegram users, inspect chats, inject faults (see standin.py)."""

import asyncio
import secrets
from typing import Any

from aiohttp import web

from shopshot.playground import _format, _media, _payments
from shopshot.playground._botapi import STATE
from shopshot.playground._markup import buttons
from shopshot.playground._messages import as_api, summary, text_fields
from shopshot.playground._state import CONTENT_KINDS, BotApiError, CallbackRecord, Chat, Fault, State, StoredMessage
from shopshot.playground._updates import push_update

_FILE_KINDS = ("sticker", "voice", "video", "video_note", "animation", "audio")


class ControlError(Exception):
    """A control request that cannot be carried out; 404 means "no such thing" (LookupError)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@web.middleware
async def control_errors(request: web.Request, handler) -> web.StreamResponse:
    """Turn refusals into `{"error": ...}` answers the client re-raises."""
    try:
        return await handler(request)
    except ControlError as error:
        return web.json_response({"error": str(error)}, status=error.status)
    except BotApiError as error:
        # Media a Telegram app could not send either (not an image, too large a side).
        return web.json_response({"error": error.description}, status=400)


async def send_text(request: web.Request) -> web.Response:
    """A user types a message; commands get their bot_command entities."""
    body = await _json(request)
    text = str(body.get("text") or "").strip()
    if not text or _format.utf16_length(text) > _format.MAX_TEXT:
        raise ControlError(400, "a message text must have 1-4096 characters")
    content = text_fields(_format.user_text(text), "text")
    message = await _from_user(request, body, "text", content)
    return web.json_response({"message_id": message.message_id})


async def send_photo(request: web.Request) -> web.Response:
    """A user sends a picture as a photo: the bot only ever sees the recompressed sizes."""
    form = await request.post()
    sizes = await _user_photo(request.app[STATE], _part(form, "photo"))
    content = {"photo": sizes, **_user_caption(form.get("caption"))}
    message = await _from_user(
        request, form, "photo", content, media_group_id=form.get("media_group_id") or None, file_id=sizes[-1]["file_id"]
    )
    return web.json_response({"message_id": message.message_id})


async def send_document(request: web.Request) -> web.Response:
    """A user sends a file: kept byte for byte."""
    form = await request.post()
    upload = _part(form, "document")
    declared = form.get("mime_type")
    mime_type = declared if isinstance(declared, str) and declared else None
    stored = _media.store_document(request.app[STATE], upload.file.read(), upload.filename, mime_type)
    content = {"document": stored.as_api(), **_user_caption(form.get("caption"))}
    message = await _from_user(request, form, "document", content, file_id=stored.file_id)
    return web.json_response({"message_id": message.message_id})


async def send_album(request: web.Request) -> web.Response:
    """A user sends several photos at once: one update per photo, sharing a media_group_id."""
    form = await request.post()
    parts = form.getall("photo", [])
    if not 2 <= len(parts) <= 10:
        raise ControlError(400, "an album has 2-10 photos")
    state, group_id = request.app[STATE], str(secrets.randbits(62))
    # All photos are ready before the first update goes out: an album's updates arrive together.
    photos = [await _user_photo(state, part) for part in parts]
    ids = []
    for sizes in photos:
        message = await _from_user(
            request, form, "photo", {"photo": sizes}, media_group_id=group_id, file_id=sizes[-1]["file_id"]
        )
        ids.append(message.message_id)
    return web.json_response({"message_ids": ids, "media_group_id": group_id})


async def send_fields(request: web.Request) -> web.Response:
    """Any other kind of message: the given fields merged into the Message object."""
    body = await _json(request)
    fields = body.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise ControlError(400, "fields must be a non-empty object")
    fields = {key: _with_file_ids(key, value) for key, value in fields.items()}
    kind = next((key for key in CONTENT_KINDS if key in fields), "other")
    described = fields.get(kind)
    file_id = described.get("file_id") if isinstance(described, dict) else None
    message = await _from_user(request, body, kind, fields, file_id=file_id)
    return web.json_response({"message_id": message.message_id})


async def press(request: web.Request) -> web.Response:
    """A user taps an inline button of a bot message, found by its callback_data or its label."""
    body = await _json(request)
    chat = _chat(request)
    message_id = int(body.get("message_id", 0))
    message = chat.live(message_id)
    if message is None or not message.from_bot:
        raise ControlError(404, f"no bot message {message_id} in chat {chat.id}")
    button = _find_button(message, body.get("data"), body.get("text"))
    query_id = await _callback(request, chat, message_id, button["callback_data"], body)
    return web.json_response({"callback_query_id": query_id})


async def pay(request: web.Request) -> web.Response:
    """A user pays an invoice, by its message in their chat or by its link: answered once the bot has answered."""
    body = await _json(request)
    state = request.app[STATE]
    chat = state.user_chat(_user(request, body))
    message_id = body.get("message_id")
    try:
        reference = _payments.invoice_ref(chat, int(message_id) if message_id is not None else None, body.get("link"))
        charge_id = await _payments.pay(state, chat, reference)
    except LookupError as error:
        raise ControlError(404, str(error)) from None
    except _payments.PaymentRefused as error:
        return web.json_response({"paid": False, "error_message": str(error)})
    return web.json_response({"paid": True, "telegram_payment_charge_id": charge_id})


async def forge_callback(request: web.Request) -> web.Response:
    """A callback query with any data, as a modified client could send."""
    body = await _json(request)
    chat = _chat(request)
    query_id = await _callback(request, chat, int(body.get("message_id", 0)), str(body.get("data", "")), body)
    return web.json_response({"callback_query_id": query_id})


async def bot_messages(request: web.Request) -> web.Response:
    """The bot's messages in a chat as they look now (deleted ones left out)."""
    return web.json_response([summary(m) for m in _visible(request) if m.from_bot])


async def history(request: web.Request) -> web.Response:
    """Every message still in the chat, from both sides."""
    return web.json_response([summary(m) for m in _visible(request)])


async def callback_answers(request: web.Request) -> web.Response:
    """The bot's answers to that user's callback queries, in the order it gave them."""
    user_id = int(request.match_info["user_id"])
    records = [r for r in request.app[STATE].answered if r.user_id == user_id]
    return web.json_response([_answer_row(record) for record in records])


async def file_bytes(request: web.Request) -> web.Response:
    """The stored bytes of any file_id."""
    stored = request.app[STATE].files.get(request.match_info["file_id"])
    if stored is None:
        raise ControlError(404, "no such file_id")
    return web.Response(body=stored.data, content_type="application/octet-stream")


async def calls(request: web.Request) -> web.Response:
    """The log of Bot API calls, optionally for one method."""
    method = (request.query.get("method") or "").lower()
    rows = [c.as_dict() for c in request.app[STATE].calls if not method or c.method.lower() == method]
    return web.json_response(rows)


async def inject_fault(request: web.Request) -> web.Response:
    """Make the next `count` calls of a method fail or wait."""
    body = await _json(request)
    if not body.get("method"):
        raise ControlError(400, "a fault needs the method it applies to")
    fault = Fault(
        int(body.get("status", 429)), body.get("retry_after"), float(body.get("delay_s", 0.0)), body.get("description")
    )
    pending = request.app[STATE].faults.setdefault(str(body["method"]).lower(), [])
    pending.extend(fault for _ in range(int(body.get("count", 1))))
    return web.json_response({"ok": True})


async def set_rate_limit(request: web.Request) -> web.Response:
    """Change the bot's calls a second beyond which Bot API calls get 429."""
    body = await _json(request)
    limit = body.get("calls_per_s")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ControlError(400, "calls_per_s must be a positive integer or null")
    request.app[STATE].rate_limit.calls_per_s = limit
    return web.json_response({"ok": True})


async def reset(request: web.Request) -> web.Response:
    """Forget chats, files, updates, faults and logs."""
    request.app[STATE].reset()
    return web.json_response({"ok": True})


async def _from_user(request: web.Request, body: Any, kind: str, content: dict, **extra: Any) -> StoredMessage:
    state = request.app[STATE]
    chat = state.user_chat(_user(request, body))
    message = StoredMessage(chat.next_message_id(), from_bot=False, kind=kind, content=content, **extra)
    chat.messages[message.message_id] = message
    await push_update(state, "message", as_api(state, chat, message))
    return message


async def _callback(request: web.Request, chat: Chat, message_id: int, data: str, body: dict) -> str:
    state = request.app[STATE]
    user = _user(request, body)
    chat.user.update(user)
    record = CallbackRecord(str(secrets.randbits(63)), chat.id, message_id, data)
    state.callbacks[record.id] = record
    message = chat.live(message_id)
    # A query about a message the bot can no longer see carries an InaccessibleMessage (date 0).
    visible = message is not None and not body.get("inaccessible")
    shown = (
        as_api(state, chat, message)
        if message is not None and visible
        else {"chat": chat.as_api(), "message_id": message_id, "date": 0}
    )
    payload = {
        "id": record.id,
        "from": dict(chat.user),
        "message": shown,
        "chat_instance": chat.chat_instance,
        "data": data,
    }
    await push_update(state, "callback_query", payload)
    return record.id


def _find_button(message: StoredMessage, data: str | None, label: str | None) -> dict:
    if data is None and label is None:
        raise ControlError(400, "press needs data or text")
    for button in buttons(message.reply_markup):
        if (data is None or button.get("callback_data") == data) and (label is None or button["text"] == label):
            if "callback_data" not in button:
                raise ControlError(404, f"button {button['text']!r} sends no callback query")
            return button
    shown = [(b["text"], b.get("callback_data")) for b in buttons(message.reply_markup)]
    raise ControlError(404, f"message {message.message_id} has no button data={data!r} text={label!r}; it has {shown}")


async def _user_photo(state: State, part: Any) -> list[dict]:
    if not isinstance(part, web.FileField):
        raise ControlError(400, "photos must be sent as file parts")
    data = part.file.read()
    return _media.store_photo(state, await asyncio.to_thread(_media.renditions, data))


def _user_caption(raw: Any) -> dict:
    text = str(raw or "").strip()
    if _format.utf16_length(text) > _format.MAX_CAPTION:
        raise ControlError(400, "a caption has at most 1024 characters")
    return text_fields(_format.user_text(text), "caption") if text else {}


def _with_file_ids(kind: str, value: Any) -> Any:
    if kind in _FILE_KINDS and isinstance(value, dict):
        return {"file_id": secrets.token_urlsafe(32), "file_unique_id": secrets.token_urlsafe(8), **value}
    return value


def _user(request: web.Request, body: Any) -> dict:
    user_id = int(request.match_info["user_id"])
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": body.get("first_name") or f"User {user_id}",
        "language_code": body.get("language_code") or "en",
    }


def _chat(request: web.Request) -> Chat:
    chat = request.app[STATE].chats.get(int(request.match_info["user_id"]))
    if chat is None:
        raise ControlError(404, f"user {request.match_info['user_id']} has no chat with the bot")
    return chat


def _visible(request: web.Request) -> list[StoredMessage]:
    chat = request.app[STATE].chats.get(int(request.match_info["user_id"]))
    return [m for m in chat.messages.values() if not m.deleted] if chat else []


def _answer_row(record: CallbackRecord) -> dict:
    return {
        "callback_query_id": record.id,
        "message_id": record.message_id,
        "data": record.data,
        **(record.answer or {}),
    }


def _part(form: Any, name: str) -> web.FileField:
    part = form.get(name)
    if not isinstance(part, web.FileField):
        raise ControlError(400, f"a file part named {name!r} is required")
    return part


async def _json(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise ControlError(400, "a JSON object body is required") from None
    if not isinstance(body, dict):
        raise ControlError(400, "a JSON object body is required")
    return body
