"""Bot API methods that send messages: sendMessage, sendPhoto, sendDocument, sendMediaGroup."""

import asyncio
import secrets
from typing import Any

from shopshot.playground import _format, _media
from shopshot.playground._markup import inline_markup
from shopshot.playground._messages import as_api, text_fields
from shopshot.playground._params import Params
from shopshot.playground._state import BotApiError, Chat, State, StoredMessage, bad_request

MAX_ALBUM = 10
# The Bot API documents 2-10 items; Telegram itself sends a lone item as a plain message. The
# stand-in holds bots to the documented contract, with its own wording for the one-item case.
ALBUM_TOO_SMALL = "media group must include 2-10 items"
_GROUPABLE = ("photo", "document")


async def send_message(state: State, params: Params) -> dict:
    """sendMessage: text up to 4096 characters after parsing, an optional inline keyboard."""
    source = params.text("text")
    formatted = _format.message_text(source, params.text("parse_mode"), _entities(params, "entities"))
    chat = state.chat(params.chat_id())
    return deliver(state, params, chat, kind="text", content=text_fields(formatted, "text"), source=source)


async def send_photo(state: State, params: Params) -> dict:
    """sendPhoto: an upload (recompressed into a size array) or an existing photo's file_id."""
    formatted, source = _caption(params, params.text("caption"), params.text("parse_mode"))
    chat = state.chat(params.chat_id())
    sizes = await _photo(state, params, params.text("photo"), "photo")
    content = {"photo": sizes, **text_fields(formatted, "caption"), **_photo_flags(params)}
    return deliver(state, params, chat, kind="photo", content=content, source=source, file_id=sizes[-1]["file_id"])


async def send_document(state: State, params: Params) -> dict:
    """sendDocument: the file kept byte for byte, or an existing document's file_id."""
    formatted, source = _caption(params, params.text("caption"), params.text("parse_mode"))
    chat = state.chat(params.chat_id())
    document = _document(state, params, params.text("document"), "document")
    content = {"document": document, **text_fields(formatted, "caption")}
    return deliver(state, params, chat, kind="document", content=content, source=source, file_id=document["file_id"])


async def send_media_group(state: State, params: Params) -> list[dict]:
    """sendMediaGroup: 2-10 photos or 2-10 documents, each its own message in one album."""
    items = _album_items(params)
    chat = state.chat(params.chat_id())
    group_id = str(secrets.randbits(62))
    prepared = [await _album_item(state, params, item) for item in items]
    # Telegram reads no reply_markup for albums.
    return [deliver(state, params, chat, with_markup=False, media_group_id=group_id, **fields) for fields in prepared]


def deliver(state: State, params: Params, chat: Chat, *, with_markup: bool = True, **fields) -> dict:
    """Store a bot message in the chat and return its Message object."""
    markup = inline_markup(params.json("reply_markup", "can't parse reply keyboard markup JSON object"))
    message = StoredMessage(
        message_id=chat.next_message_id(),
        from_bot=True,
        reply_to=_reply_to(chat, params),
        reply_markup=markup if with_markup else None,
        **{"parse_mode": params.text("parse_mode"), **fields},
    )
    chat.messages[message.message_id] = message
    return as_api(state, chat, message)


def _photo_flags(params: Params) -> dict:
    flags = {
        "has_media_spoiler": params.flag("has_spoiler"),
        "show_caption_above_media": params.flag("show_caption_above_media"),
    }
    return {key: True for key, value in flags.items() if value}


def _reply_to(chat: Chat, params: Params) -> int | None:
    reply = params.json("reply_parameters", "can't parse reply parameters JSON object") or {}
    if not isinstance(reply, dict):
        raise bad_request("object expected as reply parameters")
    message_id = _as_int(reply.get("message_id")) or params.integer("reply_to_message_id")
    if not message_id:
        return None
    if chat.live(message_id) is not None:
        return message_id
    if reply.get("allow_sending_without_reply") or params.flag("allow_sending_without_reply"):
        return None
    raise bad_request("message to be replied not found")


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _caption(params: Params, text: str | None, parse_mode: str | None) -> tuple:
    formatted = _format.caption(text, parse_mode, _entities(params, "caption_entities"))
    return formatted, (text if formatted else None)


def _entities(params: Params, name: str) -> list | None:
    return params.json(name, "can't parse entities JSON object")


async def _photo(state: State, params: Params, reference: str | None, field: str) -> list[dict]:
    upload = params.upload(reference, field)
    if upload is not None:
        renditions = await asyncio.to_thread(_media.renditions, upload.data)
        return _media.store_photo(state, renditions)
    return _existing(state, reference, "photo").sizes


def _document(state: State, params: Params, reference: str | None, field: str) -> dict:
    upload = params.upload(reference, field)
    if upload is not None and len(upload.data) > _media.MAX_UPLOAD_BYTES:
        raise BotApiError(413, "Request Entity Too Large")
    if upload is not None:
        return _media.store_document(state, upload.data, upload.filename, None).as_api()
    return _existing(state, reference, "document").as_api()


def _existing(state: State, reference: str | None, kind: str):
    if reference is None or reference.startswith("attach://"):
        raise bad_request(f"there is no {kind} in the request")
    if reference.startswith(("http://", "https://")):
        # The stand-in never reaches the internet, so it cannot fetch what a URL names.
        raise bad_request("failed to get HTTP URL content")
    stored = state.files.get(reference)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise bad_request("type of file mismatch")
    return stored


def _album_items(params: Params) -> list[dict]:
    media = params.json("media", "can't parse media JSON object")
    if media is None:
        raise bad_request('parameter "media" is required')
    if not isinstance(media, list):
        raise bad_request("expected an Array of InputMedia")
    if not media:
        raise bad_request("there are no messages to send")
    if len(media) > MAX_ALBUM:
        raise bad_request("too many messages to send as an album")
    if len(media) < 2:
        raise bad_request(ALBUM_TOO_SMALL)
    kinds = [_album_kind(item) for item in media]
    if "document" in kinds and len(set(kinds)) > 1:
        raise bad_request("document can't be mixed with other media types")
    return media


def _album_kind(item: object) -> str:
    if not isinstance(item, dict):
        raise bad_request("can't parse InputMedia: expected an Object")
    kind = item.get("type")
    if kind not in _GROUPABLE:
        raise bad_request(f'can\'t parse InputMedia: type "{kind}" is not supported by the stand-in')
    if not item.get("media"):
        raise bad_request("can't parse InputMedia: media not found")
    return kind


async def input_media(state: State, params: Params, item: object) -> dict:
    """The fields of a message made from one InputMedia object (a photo or a document), as editMessageMedia takes it."""
    _album_kind(item)
    assert isinstance(item, dict)  # _album_kind refused anything else
    return await _album_item(state, params, item)


async def _album_item(state: State, params: Params, item: dict) -> dict:
    """The fields of one album message: its file, caption and how the caption was written."""
    parse_mode = item.get("parse_mode") or params.text("parse_mode")
    formatted = _format.caption(item.get("caption"), parse_mode, item.get("caption_entities"))
    reference = str(item["media"])
    content: dict[str, Any]
    if item["type"] == "photo":
        sizes = await _photo(state, params, reference, "")
        content, file_id = {"photo": sizes}, sizes[-1]["file_id"]
    else:
        document = _document(state, params, reference, "")
        content, file_id = {"document": document}, document["file_id"]
    content.update(text_fields(formatted, "caption"))
    source = item.get("caption") if formatted else None
    return {"kind": item["type"], "content": content, "source": source, "parse_mode": parse_mode, "file_id": file_id}
