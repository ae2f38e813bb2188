"""Telegram's HTML parse mode: the tags and entities it knows, and its exact refusals.

Behaviour follows the cases in TDLib's own parser tests: tag names end at whitespace or `>`,
attribute values are quoted strings or `[A-Za-z0-9.-]` tokens, `</>` closes the innermost tag, only
`&lt; &gt; &amp; &quot;` and numeric references are decoded (the `;` is optional), and offsets in
errors are UTF-8 byte offsets while entity offsets are UTF-16 code units.
"""

import re
from dataclasses import dataclass, field

from shopshot.playground._state import BotApiError, bad_request

_ENTITY_OF_TAG = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_REFERENCE = re.compile(r"&(?:#[xX]([0-9a-fA-F]+)|#([0-9]+)|([A-Za-z0-9]+));?")
_TOKEN = re.compile(r"[A-Za-z0-9.-]*")


def parse_html(text: str) -> tuple[str, list[dict]]:
    """Plain text and entities from Telegram HTML; BotApiError with Telegram's wording if malformed."""
    parser = _Parser(text)
    parser.run()
    return "".join(parser.parts), sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))


@dataclass
class _Open:
    name: str
    attributes: dict[str, str]
    start: int  # UTF-16 offset where the tag's content begins


@dataclass
class _Parser:
    text: str
    parts: list[str] = field(default_factory=list)
    position: int = 0
    stack: list[_Open] = field(default_factory=list)
    entities: list[dict] = field(default_factory=list)

    def run(self) -> None:
        index = 0
        while index < len(self.text):
            if self.text[index] == "<":
                index = self._end_tag(index) if self.text.startswith("</", index) else self._start_tag(index)
            elif self.text[index] == "&":
                character, index = _reference(self.text, index)
                self._add(character)
            else:
                self._add(self.text[index])
                index += 1
        if self.stack:
            raise _error(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)

    def _add(self, character: str) -> None:
        self.parts.append(character)
        self.position += 2 if ord(character) > 0xFFFF else 1

    def _start_tag(self, begin: int) -> int:
        end = _scan_name(self.text, begin + 1)
        if end >= len(self.text):
            raise _error(f"Unclosed start tag at byte offset {self._bytes(begin)}")
        name = self.text[begin + 1 : end].lower()
        if name not in _ENTITY_OF_TAG:
            raise _error(f'Unsupported start tag "{name}" at byte offset {self._bytes(begin)}')
        attributes, end = self._attributes(name, begin, end)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise _error(f'Tag "span" must have class "tg-spoiler" at byte offset {self._bytes(begin)}')
        self.stack.append(_Open(name, attributes, self.position))
        return end + 1

    def _attributes(self, tag: str, begin: int, index: int) -> tuple[dict[str, str], int]:
        attributes: dict[str, str] = {}
        text = self.text
        while True:
            index = _skip_spaces(text, index)
            if index >= len(text):
                raise _error(f"Unclosed start tag at byte offset {self._bytes(begin)}")
            if text[index] == ">":
                return attributes, index
            name_end = index
            while name_end < len(text) and not text[name_end].isspace() and text[name_end] not in "=>":
                name_end += 1
            if name_end == index:
                raise _error(f'Empty attribute name in the tag "{tag}" at byte offset {self._bytes(begin)}')
            name, index = text[index:name_end].lower(), _skip_spaces(text, name_end)
            if index < len(text) and text[index] == "=":
                attributes[name], index = self._value(tag, begin, _skip_spaces(text, index + 1))
            else:
                attributes[name] = ""

    def _value(self, tag: str, begin: int, index: int) -> tuple[str, int]:
        text = self.text
        if index >= len(text):
            raise _error(f'Unclosed start tag "{tag}" at byte offset {self._bytes(begin)}')
        if text[index] in "\"'":
            close = text.find(text[index], index + 1)
            if close < 0:
                raise _error(f"Unclosed start tag at byte offset {self._bytes(begin)}")
            return _decode(text[index + 1 : close]), close + 1
        token = _TOKEN.match(text, index)
        assert token is not None  # the pattern matches the empty string, so it matches at any index
        end = token.end()
        if end >= len(text) or not (text[end].isspace() or text[end] == ">"):
            raise _error(f"Unexpected end of name token at byte offset {self._bytes(end)}")
        return text[index:end].lower(), end

    def _end_tag(self, begin: int) -> int:
        if not self.stack:
            raise _error(f"Unexpected end tag at byte offset {self._bytes(begin)}")
        name_end = _scan_name(self.text, begin + 2)
        end = _skip_spaces(self.text, name_end)
        if end >= len(self.text) or self.text[end] != ">":
            raise _error(f"Unclosed end tag at byte offset {self._bytes(begin)}")
        # Telegram lowercases start tag names but compares end tag names as written.
        name, expected = self.text[begin + 2 : name_end], self.stack[-1].name
        if name and name != expected:
            raise _error(
                f'Unmatched end tag at byte offset {self._bytes(begin)}, expected "</{expected}>", found "</{name}>"'
            )
        self._close(self.stack.pop())
        return end + 1

    def _close(self, opened: _Open) -> None:
        if self.position == opened.start:
            return
        entity = {"type": _ENTITY_OF_TAG[opened.name], "offset": opened.start, "length": self.position - opened.start}
        entity.update(_arguments(opened))
        if entity["type"] == "text_link" and "url" not in entity:
            return
        if not self._merged_pre_code(entity) and (entity["type"] != "custom_emoji" or "custom_emoji_id" in entity):
            self.entities.append(entity)

    def _merged_pre_code(self, entity: dict) -> bool:
        """<pre><code class="language-x"> (either nesting) is one pre entity with a language."""
        last = self.entities[-1] if self.entities else None
        if last is None or (last["offset"], last["length"]) != (entity["offset"], entity["length"]):
            return False
        pair = {last["type"], entity["type"]} == {"pre", "code"}
        language = last.get("language") if last["type"] == "code" else entity.get("language")
        if not pair or not language:
            return False
        last.update(type="pre", language=language)
        return True

    def _bytes(self, index: int) -> int:
        return len(self.text[:index].encode())


def _arguments(opened: _Open) -> dict:
    attributes = opened.attributes
    if opened.name == "a" and attributes.get("href"):
        return {"url": attributes["href"]}
    if opened.name == "code" and attributes.get("class", "").startswith("language-"):
        language = attributes["class"].removeprefix("language-")
        return {"language": language} if language else {}
    if opened.name == "tg-emoji" and attributes.get("emoji-id"):
        return {"custom_emoji_id": attributes["emoji-id"]}
    if opened.name == "blockquote" and "expandable" in attributes:
        return {"type": "expandable_blockquote"}
    return {}


def _reference(text: str, index: int) -> tuple[str, int]:
    """A character reference Telegram decodes, or a literal '&'."""
    match = _REFERENCE.match(text, index)
    if match is None:
        return "&", index + 1
    hexadecimal, decimal, name = match.groups()
    if name is not None:
        return (_NAMED[name], match.end()) if name in _NAMED else ("&", index + 1)
    code = int(hexadecimal, 16) if hexadecimal is not None else int(decimal)
    if code > 0x10FFFF:
        return "&", index + 1
    if 0xD800 <= code <= 0xDFFF:
        raise _error(
            "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched "
            "surrogate code units"
        )
    return chr(code), match.end()


def _decode(value: str) -> str:
    parts, index = [], 0
    while index < len(value):
        if value[index] == "&":
            character, index = _reference(value, index)
        else:
            character, index = value[index], index + 1
        parts.append(character)
    return "".join(parts)


def _scan_name(text: str, index: int) -> int:
    while index < len(text) and not text[index].isspace() and text[index] != ">":
        index += 1
    return index


def _skip_spaces(text: str, index: int) -> int:
    while index < len(text) and text[index].isspace():
        index += 1
    return index


def _error(detail: str) -> BotApiError:
    return bad_request(f"can't parse entities: {detail}")
