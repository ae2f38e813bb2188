"""The stand-in's memory: plain dataclasses for chats, messages, files, updates and faults."""

import asyncio
import itertools
import math
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from shopshot.playground._events import Changes

BOT_USERNAME = "shopshot_local_bot"
BOT_FIRST_NAME = "Shopshot (local)"

# Kinds of message content a Message object can carry, in the order Telegram's clients check them.
CONTENT_KINDS = (
    "text",
    "photo",
    "document",
    "sticker",
    "voice",
    "video",
    "video_note",
    "animation",
    "audio",
    "contact",
    "location",
    "venue",
    "poll",
    "dice",
    "game",
    "invoice",
)


class BotApiError(Exception):
    """A Bot API failure, answered as `{"ok": false, "error_code", "description"}`."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def bad_request(description: str) -> BotApiError:
    """A 400 error worded as Telegram words it: `Bad Request: <description>`."""
    return BotApiError(400, f"Bad Request: {description}")


def now() -> int:
    """Unix seconds, as Telegram dates messages."""
    return int(time.time())


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    fields: dict[str, Any] = field(default_factory=dict)
    # Every size of a photo points at the same size array, so any of them resends the whole photo.
    sizes: list[dict] | None = None

    def as_api(self) -> dict:
        """The PhotoSize / Document object Telegram describes this file with."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            **self.fields,
            "file_size": len(self.data),
        }


@dataclass
class StoredMessage:
    message_id: int
    from_bot: bool
    kind: str
    content: dict[str, Any]
    date: int = field(default_factory=now)
    source: str | None = None  # the text or caption exactly as sent, HTML tags kept
    parse_mode: str | None = None
    reply_markup: dict | None = None
    media_group_id: str | None = None
    reply_to: int | None = None
    file_id: str | None = None
    edits: int = 0
    edit_date: int | None = None
    deleted: bool = False


@dataclass
class Chat:
    user: dict[str, Any]
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    last_message_id: int = 0
    chat_instance: str = field(default_factory=lambda: str(secrets.randbits(63)))

    @property
    def id(self) -> int:
        return self.user["id"]

    def as_api(self) -> dict:
        """The Chat object of a private chat with this user."""
        return {"id": self.id, "first_name": self.user["first_name"], "type": "private"}

    def next_message_id(self) -> int:
        """Message ids count up per chat, shared by both sides."""
        self.last_message_id += 1
        return self.last_message_id

    def live(self, message_id: int) -> StoredMessage | None:
        """The message with that id unless it was never sent or is deleted."""
        message = self.messages.get(message_id)
        return None if message is None or message.deleted else message


@dataclass
class CallbackRecord:
    id: str
    user_id: int
    message_id: int
    data: str
    answer: dict | None = None


@dataclass
class Fault:
    status: int
    retry_after: int | None
    delay_s: float
    description: str | None = None


@dataclass
class RateLimit:
    """Telegram's global limit on a bot: at most `calls_per_s` calls in any one second (None: no limit)."""

    calls_per_s: int | None = 30
    accepted: deque[float] = field(default_factory=deque)  # arrival times (monotonic) of the last second's calls

    def admit(self, now: float) -> int | None:
        """Count a call arriving now; None when it is within the limit, else Telegram's `retry_after` in seconds."""
        while self.accepted and self.accepted[0] <= now - 1.0:
            self.accepted.popleft()
        if self.calls_per_s is not None and len(self.accepted) >= self.calls_per_s:
            return max(1, math.ceil(self.accepted[0] + 1.0 - now))
        self.accepted.append(now)
        return None


@dataclass
class CallRecord:
    method: str
    time: float
    chat_id: int | str | None
    ok: bool
    error_code: int | None
    injected: bool = False  # it met a fault of POST /_control/faults (an error or a delay), not only the bot's doing

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "time": self.time,
            "chat_id": self.chat_id,
            "ok": self.ok,
            "error_code": self.error_code,
            "injected": self.injected,
        }


@dataclass
class Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None

    def as_info(self, pending: int, allowed_updates: list[str] | None) -> dict:
        """The WebhookInfo object getWebhookInfo answers with."""
        info = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
            "max_connections": self.max_connections,
            "ip_address": "127.0.0.1",
        }
        if allowed_updates:
            info["allowed_updates"] = allowed_updates
        if self.last_error_date:
            info |= {"last_error_date": self.last_error_date, "last_error_message": self.last_error_message}
        return info


@dataclass(frozen=True)
class Invoice:
    title: str
    description: str
    payload: str
    currency: str
    total_amount: int

    def as_api(self) -> dict:
        """The Invoice object a message with an invoice carries (the payload stays with the bot)."""
        return {
            "title": self.title,
            "description": self.description,
            "start_parameter": "",
            "currency": self.currency,
            "total_amount": self.total_amount,
        }


@dataclass
class Checkout:
    user_id: int
    invoice: Invoice
    answer: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass
class StarCharge:
    user_id: int
    invoice: Invoice
    refunded: bool = False


@dataclass
class Payments:
    """The invoices sent or linked, pre-checkout queries waiting, charges made and the bot's Star transactions."""

    invoices: dict[str, Invoice] = field(default_factory=dict)  # "chat:message" or a link's slug
    checkouts: dict[str, Checkout] = field(default_factory=dict)
    charges: dict[str, StarCharge] = field(default_factory=dict)
    transactions: list[dict] = field(default_factory=list)


@dataclass
class State:
    token: str
    chats: dict[int, Chat] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    updates: list[dict] = field(default_factory=list)
    allowed_updates: list[str] | None = None
    callbacks: dict[str, CallbackRecord] = field(default_factory=dict)
    answered: list[CallbackRecord] = field(default_factory=list)  # in the order the bot answered
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    calls: list[CallRecord] = field(default_factory=list)
    commands: dict[str, list[dict]] = field(default_factory=dict)
    rate_limit: RateLimit = field(default_factory=RateLimit)
    # Update ids and file numbers keep counting across resets so a running bot's offset stays valid.
    update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    file_numbers: itertools.count = field(default_factory=lambda: itertools.count(0))
    wakeup: asyncio.Condition = field(default_factory=asyncio.Condition)
    poller: object | None = None
    webhook: Webhook | None = None
    webhook_sender: asyncio.Task | None = None  # posts updates to the webhook while one is set
    closing: bool = False
    changes: Changes = field(default_factory=Changes)  # wakes the chat pages (see _web.py)
    payments: Payments = field(default_factory=Payments)

    @property
    def bot_user(self) -> dict:
        """The User object of the bot, its id taken from the token as Telegram's are."""
        return {
            "id": int(self.token.split(":")[0]),
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
        }

    def reset(self) -> None:
        """Forget chats, files, updates, faults and logs."""
        for name in ("chats", "files", "callbacks", "faults", "commands", "updates", "calls", "answered"):
            getattr(self, name).clear()
        self.allowed_updates = None
        self.payments = Payments()

    def chat(self, chat_id: int) -> Chat:
        """The private chat with that user; Telegram answers "chat not found" for strangers."""
        found = self.chats.get(chat_id)
        if found is None:
            raise bad_request("chat not found")
        return found

    def user_chat(self, user: dict) -> Chat:
        """The chat a user writes in, opened on their first message and kept up to date."""
        chat = self.chats.get(user["id"])
        if chat is None:
            chat = self.chats[user["id"]] = Chat(user=dict(user))
        chat.user.update(user)
        return chat

    def add_file(self, kind: str, data: bytes, extension: str, fields: dict) -> StoredFile:
        """Store bytes under a fresh file_id and download path."""
        number = next(self.file_numbers)
        folder = {"photo": "photos", "document": "documents"}.get(kind, f"{kind}s")
        stored = StoredFile(
            file_id=_file_id(kind),
            file_unique_id=_unique_id(kind),
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{number}.{extension}",
            fields=fields,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, file_path: str) -> StoredFile | None:
        """The stored file behind a `getFile` download path."""
        return next((f for f in self.files.values() if f.file_path == file_path), None)


# Real file ids are opaque base64url strings whose first bytes encode the file type; ours keep the
# look so that logs read familiarly, and nothing parses them.
_ID_PREFIX = {"photo": "AgACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI"}
_UNIQUE_PREFIX = {"photo": "AQAD", "document": "AgAD"}


def _file_id(kind: str) -> str:
    return _ID_PREFIX.get(kind, "CAACAgIAAxkBAAI") + secrets.token_urlsafe(48)


def _unique_id(kind: str) -> str:
    return _UNIQUE_PREFIX.get(kind, "AgAD") + secrets.token_urlsafe(9)
