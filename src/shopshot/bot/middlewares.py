"""Request middleware: aiogram does not retry on 429 or server errors; this waits and retries."""

import asyncio
import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import Response, TelegramMethod

log = logging.getLogger(__name__)


class RetryMiddleware(BaseRequestMiddleware):
    """Retries a Bot API call after Telegram's `retry_after`, or with backoff on 5xx and network errors."""

    def __init__(self, attempts: int = 5, backoff_s: float = 0.5, max_wait_s: float = 60.0) -> None:
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s

    async def __call__(self, make_request: NextRequestMiddlewareType, bot: Bot, method: TelegramMethod) -> Response:
        for attempt in range(1, self.attempts):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if error.retry_after > self.max_wait_s:
                    raise
                wait = error.retry_after
            except (TelegramServerError, TelegramNetworkError):
                wait = self.backoff_s * 2 ** (attempt - 1)
            log.warning("%s: retrying in %.1f s (attempt %d)", type(method).__name__, wait, attempt)
            await asyncio.sleep(wait)
        return await make_request(bot, method)
