"""Who may use the bot: everyone, or in a private deployment only the allow-list and the admins."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from shopshot.bot import texts
from shopshot.config import AccessSettings, Settings
from shopshot.errors import NotAllowed

log = logging.getLogger(__name__)


def is_admin(settings: Settings, user_id: int) -> bool:
    """True for the configured admins, who may use the operations commands."""
    return user_id in settings.access.admin_ids


def is_allowed(access: AccessSettings, user_id: int) -> bool:
    """True when the bot is open to everyone, or the user is on the allow-list or an admin."""
    return not access.allowed_ids or user_id in access.allowed_ids or user_id in access.admin_ids


class AccessMiddleware(BaseMiddleware):
    """Answers users outside a private deployment's allow-list with one message, and handles nothing else."""

    def __init__(self, access: AccessSettings) -> None:
        self.access = access

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or is_allowed(self.access, user.id):
            return await handler(event, data)
        # The id is shown so that the seller can send it to the owner, as a string: no digit grouping.
        text = texts.describe(NotAllowed, {"user_id": str(user.id)})
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        elif isinstance(event, Message):
            await event.answer(text)
        return None

    def setup(self, router: Router) -> None:
        """Guard messages and button presses; after the i18n middleware, so the answer is localized."""
        router.message.outer_middleware(self)
        router.callback_query.outer_middleware(self)
