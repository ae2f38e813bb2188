"""Formatted text as Telegram checks it: parsed into plain text and entities, surrounding
whitespace trimmed, lengths counted in UTF-16 code units after parsing."""

import re
from dataclasses import dataclass, field

from shopshot.playground._html import parse_html
from shopshot.playground._state import bad_request

MAX_TEXT = 4096
MAX_CAPTION = 1024

_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


@dataclass
class Formatted:
    text: str
    entities: list[dict] = field(default_factory=list)


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def message_text(text: str | None, parse_mode: str | None, entities: list | None) -> Formatted:
    """The text of sendMessage / editMessageText, checked as Telegram checks it."""
    if not text:
        raise bad_request("message text is empty")
    formatted = parse(text, parse_mode, entities)
    if not formatted.text:
        raise bad_request("message must be non-empty")
    if utf16_length(formatted.text) > MAX_TEXT:
        raise bad_request("message is too long")
    return formatted


def caption(text: str | None, parse_mode: str | None, entities: list | None) -> Formatted | None:
    """A media caption (optional), at most 1024 characters after parsing."""
    if not text:
        return None
    formatted = parse(text, parse_mode, entities)
    if utf16_length(formatted.text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return formatted if formatted.text else None


def parse(text: str, parse_mode: str | None, entities: list | None) -> Formatted:
    """Plain text and entities from text in the given parse mode (Markdown is kept unparsed)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _trim(Formatted(*parse_html(text)))
    if mode not in ("", "none", "markdown", "markdownv2"):
        raise bad_request("unsupported parse_mode")
    return _trim(Formatted(text, list(entities or [])))


def user_text(text: str) -> Formatted:
    """A user's typed text with the bot_command entities Telegram adds to it."""
    found = [
        {"type": "bot_command", "offset": utf16_length(text[: m.start()]), "length": utf16_length(m.group())}
        for m in _COMMAND.finditer(text)
    ]
    return Formatted(text, found)


def _trim(formatted: Formatted) -> Formatted:
    """Telegram strips whitespace around a message, moving its entities with the text."""
    text = formatted.text
    lead = utf16_length(text[: len(text) - len(text.lstrip())])
    stripped = text.strip()
    size = utf16_length(stripped)
    entities = []
    for entity in formatted.entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return Formatted(stripped, entities)
