"""Turns errors raised by handlers into a localized reply."""

import logging

from aiogram import F, Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import BufferedInputFile, ErrorEvent, Update

from shopshot.bot import texts
from shopshot.bot.screens import stale_button
from shopshot.errors import InvalidOption, JobFailed, NoProductFound, ShopshotError
from shopshot.pipeline.gallery import sample_photo

log = logging.getLogger(__name__)


def _domain_error(event: ErrorEvent) -> ShopshotError:
    # These handlers are registered for ShopshotError (and subclasses) only: anything else is re-raised unanswered.
    if not isinstance(event.exception, ShopshotError):
        raise event.exception
    return event.exception


async def shopshot_error(event: ErrorEvent) -> None:
    error = _domain_error(event)
    log.info("update %s answered with %s", event.update.update_id, type(error).__name__)
    await _reply(event.update, texts.describe(type(error), error.params))


async def unknown_choice(event: ErrorEvent) -> None:
    # Only a forged (or long outdated) button names a choice the bot does not have: refuse it like a
    # stale one, and never show the value, which whoever forged the button wrote, back to the seller.
    log.info("update %s: a button with an unknown choice", event.update.update_id)
    if event.update.callback_query is not None:  # always: the handler's filter asks for one
        await stale_button(event.update.callback_query)


async def no_product(event: ErrorEvent) -> None:
    # A photo refused as it arrives (no product, or ProductUnclear): the advice comes with a picture of a photo that works.
    error = _domain_error(event)
    log.info("update %s answered with %s", event.update.update_id, type(error).__name__)
    example = BufferedInputFile(sample_photo(), filename="good-photo.jpg")
    if event.update.message is None:  # never: the handler's filter asks for a message
        return
    await event.update.message.answer_photo(example, caption=texts.describe(type(error), error.params))


async def unexpected_error(event: ErrorEvent) -> None:
    log.error("update %s failed", event.update.update_id, exc_info=event.exception)
    await _reply(event.update, texts.describe(JobFailed, {}))


async def _reply(update: Update, text: str) -> None:
    if update.callback_query:
        await update.callback_query.answer()
        if (
            update.callback_query.message is not None
        ):  # None under a message of an inline query, which the bot sends none of
            await update.callback_query.message.answer(text)
    elif update.message:
        await update.message.answer(text)


def build_router() -> Router:
    """The errors handlers, on a router of their own."""
    router = Router(name="errors")
    router.error.register(unknown_choice, ExceptionTypeFilter(InvalidOption), F.update.callback_query)
    router.error.register(no_product, ExceptionTypeFilter(NoProductFound), F.update.message)
    router.error.register(shopshot_error, ExceptionTypeFilter(ShopshotError))
    router.error.register(unexpected_error)
    return router
