"""Messages rendered two ways: as Bot API Message objects, and as flat summaries for tests."""

from shopshot.playground._format import Formatted
from shopshot.playground._state import Chat, State, StoredMessage


def as_api(state: State, chat: Chat, message: StoredMessage, *, with_reply: bool = True) -> dict:
    """The Message object Telegram would return or deliver for this message now."""
    body = {
        "message_id": message.message_id,
        "from": state.bot_user if message.from_bot else dict(chat.user),
        "chat": chat.as_api(),
        "date": message.date,
    }
    if message.edit_date is not None:
        body["edit_date"] = message.edit_date
    if message.media_group_id is not None:
        body["media_group_id"] = message.media_group_id
    replied = chat.live(message.reply_to) if message.reply_to and with_reply else None
    if replied is not None:
        body["reply_to_message"] = as_api(state, chat, replied, with_reply=False)
    body.update(message.content)
    if message.reply_markup is not None:
        body["reply_markup"] = message.reply_markup
    return body


def text_fields(formatted: Formatted | None, key: str) -> dict:
    """`text` + `entities` or `caption` + `caption_entities`, leaving out what is empty."""
    if formatted is None:
        return {}
    fields: dict = {key: formatted.text}
    if formatted.entities:
        fields["entities" if key == "text" else f"{key}_entities"] = formatted.entities
    return fields


def summary(message: StoredMessage) -> dict:
    """A flat description of a message's current state, as the control API reports it."""
    is_text = message.kind == "text"
    media = _media_fields(message)
    return {
        "message_id": message.message_id,
        "from_bot": message.from_bot,
        "kind": message.kind,
        "text": _shown(message, "text") if is_text else None,
        "caption": None if is_text else _shown(message, "caption"),
        "parse_mode": message.parse_mode,
        "reply_markup": message.reply_markup,
        "media_group_id": message.media_group_id,
        "reply_to": message.reply_to,  # the message it answers, if any
        "file_id": message.file_id,
        **media,
        "date": message.date,
        "edits": message.edits,
    }


def _shown(message: StoredMessage, key: str) -> str | None:
    """The text as its sender wrote it (HTML kept); a user's text as typed."""
    if message.from_bot and message.source is not None:
        return message.source
    return message.content.get(key)


def _media_fields(message: StoredMessage) -> dict:
    photo = message.content.get("photo")
    described = photo[-1] if photo else message.content.get(message.kind)
    described = described if isinstance(described, dict) else {}
    return {key: described.get(key) for key in ("file_name", "mime_type", "width", "height")}
