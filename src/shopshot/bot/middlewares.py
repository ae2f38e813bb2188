"""Request middleware: aiogram does not retry on 429 or server errors; this waits and retries.

A send retried after a timeout or a 5xx can repeat a message Telegram had in fact accepted: the Bot
API has no idempotency key, so the client cannot tell "lost" from "accepted, answer lost". We retry
anyway, because a lost album is worse than a repeated one; delivery checkpoints every part it sends
(see delivery.py), so at most the one part in flight can repeat. Best-effort calls (progress edits)
run inside `no_retries()` and handle failures themselves instead of waiting.
"""

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramEntityTooLarge,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod

log = logging.getLogger(__name__)
_RETRYING: ContextVar[bool] = ContextVar("shopshot_retrying", default=True)


@contextmanager
def no_retries() -> Iterator[None]:
    """Bot API calls made inside the block fail at once instead of waiting and retrying."""
    token = _RETRYING.set(False)
    try:
        yield
    finally:
        _RETRYING.reset(token)


class RetryMiddleware(BaseRequestMiddleware):
    """Retries a Bot API call after Telegram's `retry_after`, or with backoff on 5xx and network errors."""

    def __init__(self, attempts: int = 5, backoff_s: float = 0.5, max_wait_s: float = 60.0) -> None:
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s

    async def __call__(self, make_request: NextRequestMiddlewareType, bot: Bot, method: TelegramMethod) -> Response:
        if not _RETRYING.get():
            return await make_request(bot, method)
        for attempt in range(1, self.attempts):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if error.retry_after > self.max_wait_s:
                    raise
                wait = error.retry_after
            except TelegramEntityTooLarge:
                raise  # a 413 (aiogram files it under network errors): the same upload would be refused again
            # A 5xx from a proxy in front of Telegram comes as an HTML page: aiogram raises ClientDecodeError.
            except (TelegramServerError, TelegramNetworkError, ClientDecodeError):
                wait = self.backoff_s * 2 ** (attempt - 1)
            log.warning("%s: retrying in %.1f s (attempt %d)", type(method).__name__, wait, attempt)
            await asyncio.sleep(wait)
        return await make_request(bot, method)
