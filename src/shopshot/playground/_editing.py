"""Bot API methods that change or remove sent messages, and answers to button presses."""

from shopshot.playground import _format, _sending
from shopshot.playground._markup import inline_markup
from shopshot.playground._messages import as_api, text_fields
from shopshot.playground._params import Params
from shopshot.playground._state import Chat, State, StoredMessage, bad_request, now

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
MAX_ANSWER_TEXT = 200


async def edit_message_text(state: State, params: Params) -> dict:
    """editMessageText: new text; a keyboard left out of the call is removed, as on Telegram."""
    source = params.text("text")
    entities = params.json("entities", "can't parse entities")
    formatted = _format.message_text(source, params.text("parse_mode"), entities)
    markup = _markup(params)
    chat, message = _editable(state, params, "message to edit")
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    _apply(message, text_fields(formatted, "text"), markup, source, params.text("parse_mode"))
    return as_api(state, chat, message)


async def edit_message_caption(state: State, params: Params) -> dict:
    """editMessageCaption: a new caption (or none) for a photo or document."""
    source = params.text("caption")
    entities = params.json("caption_entities", "can't parse entities")
    formatted = _format.caption(source, params.text("parse_mode"), entities)
    markup = _markup(params)
    chat, message = _editable(state, params, "message to edit")
    if message.kind == "text":
        raise bad_request("there is no caption in the message to edit")
    content = {k: v for k, v in message.content.items() if k not in ("caption", "caption_entities")}
    content.update(text_fields(formatted, "caption"))
    _apply(message, content, markup, source if formatted else None, params.text("parse_mode"))
    return as_api(state, chat, message)


async def edit_message_media(state: State, params: Params) -> dict:
    """editMessageMedia: another photo or document, with its own caption (or none), in the message's place."""
    # Telegram turns a text message into a media one this way too (never the other way round), so any kind is editable.
    item = params.json("media", "can't parse input media JSON object")
    if item is None:
        raise bad_request('parameter "media" is required')
    markup = _markup(params)
    chat, message = _editable(state, params, "message to edit")
    fields = await _sending.input_media(state, params, item)
    _apply(message, fields["content"], markup, fields["source"], fields["parse_mode"])
    message.kind, message.file_id = fields["kind"], fields["file_id"]
    return as_api(state, chat, message)


async def edit_message_reply_markup(state: State, params: Params) -> dict:
    """editMessageReplyMarkup: replace or (when left out) remove the inline keyboard."""
    markup = _markup(params)
    chat, message = _editable(state, params, "message to edit")
    _apply(message, message.content, markup, message.source, message.parse_mode)
    return as_api(state, chat, message)


async def delete_message(state: State, params: Params) -> bool:
    """deleteMessage: the bot may delete its own messages and the user's in a private chat."""
    if params.text("chat_id") is None:
        raise bad_request("chat identifier is not specified")
    message_id = params.integer("message_id")
    if not message_id:
        raise bad_request("message identifier is not specified")
    message = state.chat(params.chat_id()).live(message_id)
    if message is None:
        raise bad_request("message to delete not found")
    message.deleted = True
    return True


async def delete_messages(state: State, params: Params) -> bool:
    """deleteMessages: messages that cannot be found are skipped."""
    chat = state.chat(params.chat_id())
    ids = params.json("message_ids", "can't parse message identifiers JSON object")
    if not ids:
        raise bad_request("message identifiers are not specified")
    for message_id in ids:
        message = chat.live(int(message_id))
        if message is not None:
            message.deleted = True
    return True


async def answer_callback_query(state: State, params: Params) -> bool:
    """answerCallbackQuery: each query can be answered once."""
    record = state.callbacks.get(params.text("callback_query_id") or "")
    if record is None or record.answer is not None:
        raise bad_request(QUERY_INVALID)
    if len(params.text("text") or "") > MAX_ANSWER_TEXT:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answer = {
        "text": params.text("text"),
        "show_alert": params.flag("show_alert"),
        "url": params.text("url"),
        "cache_time": params.integer("cache_time", 0),
    }
    state.answered.append(record)
    return True


def _markup(params: Params) -> dict | None:
    return inline_markup(params.json("reply_markup", "can't parse reply keyboard markup JSON object"))


def _editable(state: State, params: Params, what: str) -> tuple[Chat, StoredMessage]:
    if params.text("chat_id") is None and not params.integer("message_id"):
        if params.text("inline_message_id") is None:
            raise bad_request("message identifier is not specified")
        # Inline mode is not part of the stand-in, so no inline message id can be valid here.
        raise bad_request("MESSAGE_ID_INVALID")
    chat = state.chat(params.chat_id())
    message = chat.live(params.integer("message_id", 0))
    if message is None:
        raise bad_request(f"{what} not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return chat, message


def _apply(message: StoredMessage, content: dict, markup: dict | None, source: str | None, mode: str | None) -> None:
    """Telegram refuses an edit that would leave content and keyboard exactly as they are."""
    if content == message.content and markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    message.content = content
    message.reply_markup = markup
    message.source = source
    message.parse_mode = mode
    message.edits += 1
    message.edit_date = now()
