"""Everything the current step does not expect: a clear answer, never silence."""

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from shopshot.bot.screens import stale_button


async def unexpected_message(message: Message, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(_("Please send a photo of your product (JPEG, PNG, WebP or HEIC)."))
    else:
        await message.answer(_("Please use the buttons above, send a new photo to start over, or /cancel."))


def build_router() -> Router:
    """The fallback handlers, on a router of their own."""
    router = Router(name="fallback")
    router.message.register(unexpected_message)
    router.callback_query.register(stale_button)
    return router
