"""The bot's metrics and log context: an update middleware and a Bot API request middleware."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.types import TelegramObject, Update

from shopshot import logs, metrics

# aiogram turns each error status into its own exception and keeps no status code; these are the
# codes Telegram answered with (5xx as one, since aiogram does not say which).
_ERROR_CODES = (
    (TelegramRetryAfter, "429"),
    (TelegramEntityTooLarge, "413"),
    (TelegramNetworkError, "network"),
    (TelegramMigrateToChat, "400"),
    (TelegramBadRequest, "400"),
    (TelegramUnauthorizedError, "401"),
    (TelegramForbiddenError, "403"),
    (TelegramNotFound, "404"),
    (TelegramConflictError, "409"),
    (TelegramServerError, "5xx"),
)


async def count_update(
    handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]], update: TelegramObject, data: dict[str, Any]
) -> Any:
    """Outer update middleware: count the update and name its user in the log lines it causes."""
    assert isinstance(update, Update)  # registered on dispatcher.update
    metrics.UPDATES.labels(update.event_type).inc()
    user = data.get("event_from_user")
    with logs.about(user_id=user.id if user else None):
        return await handler(update, data)


async def count_api_errors(make_request, bot: Bot, method: TelegramMethod) -> Response:
    """Request middleware: count each failed Bot API call by Telegram's error code."""
    try:
        return await make_request(bot, method)
    except TelegramAPIError as error:
        metrics.API_ERRORS.labels(error_code(error)).inc()
        raise


def error_code(error: TelegramAPIError) -> str:
    """The status Telegram answered with, as aiogram's exception type tells it."""
    return next((code for kind, code in _ERROR_CODES if isinstance(error, kind)), "other")
