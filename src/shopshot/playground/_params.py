"""Reading Bot API parameters the way Telegram does: from the query string, urlencoded or
multipart forms (non-string values JSON-encoded) or a JSON body, with uploads named by field."""

import json
from dataclasses import dataclass, field
from typing import Any, overload

from aiohttp import web
from multidict import MultiMapping

from shopshot.playground._state import BotApiError, bad_request


@dataclass
class Upload:
    data: bytes
    filename: str | None
    content_type: str | None


@dataclass
class Params:
    values: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        """The value as Telegram reads every argument: a string ('' counts as absent)."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            return value
        return json.dumps(value) if not isinstance(value, bool) else str(value).lower()

    @overload
    def integer(self, name: str, default: int) -> int: ...
    @overload
    def integer(self, name: str, default: None = None) -> int | None: ...
    def integer(self, name: str, default: int | None = None) -> int | None:
        """An integer argument; like Telegram, text that is not a number reads as 0."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            return 0

    def flag(self, name: str) -> bool:
        """A boolean argument: "true", "yes" or "1", any case."""
        value = self.text(name)
        return value is not None and value.strip().lower() in ("true", "yes", "1")

    def json(self, name: str, error: str) -> Any:
        """A JSON-serialized argument (already decoded when the body was JSON); None if absent."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(error) from None

    def chat_id(self) -> int:
        """The target chat; the stand-in has private chats only, so it must be a user id."""
        raw = self.text("chat_id")
        if raw is None:
            raise bad_request("chat_id is empty")
        try:
            return int(raw)
        except ValueError:
            raise bad_request("chat not found") from None

    def upload(self, reference: str | None, field_name: str) -> Upload | None:
        """The uploaded file an argument names: `attach://<part>`, or a part under its own name."""
        if reference is not None and reference.startswith("attach://"):
            return self.files.get(reference.removeprefix("attach://"))
        if reference is None:
            return self.files.get(field_name)
        return None


async def read_params(request: web.Request) -> Params:
    """Collect the arguments of one Bot API request, whatever encoding the client chose."""
    params = Params(values=dict(request.query))
    if request.method != "POST" or not request.body_exists:
        return params
    if request.content_type == "application/json":
        body = await _json_body(request)
        params.values.update(body)
        return params
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise BotApiError(413, "Request Entity Too Large") from None
    _add_form(params, form)
    return params


async def _json_body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("can't parse JSON encoded request") from None
    if not isinstance(body, dict):
        raise bad_request("JSON object expected as request body")
    return body


def _add_form(params: Params, form: MultiMapping) -> None:
    for name, value in form.items():
        if isinstance(value, web.FileField):
            params.files[name] = Upload(value.file.read(), value.filename, value.content_type)
        else:
            params.values[name] = value
