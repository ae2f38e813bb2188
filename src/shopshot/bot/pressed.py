"""The message whose button was pressed: edited while the bot can see it, answered beside it once it cannot.

Telegram hands a callback query an `InaccessibleMessage` (date 0, no text, no buttons, no edit
methods) for a message the bot may no longer see; the step must still go on, in a new message.
"""

from collections.abc import Awaitable, Callable

from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    MaybeInaccessibleMessageUnion,
    Message,
)


def pressed_message(callback: CallbackQuery) -> MaybeInaccessibleMessageUnion:
    """The message under the pressed button, seen or out of sight.

    Only a button under an inline-mode message comes without one, and the bot sends none.
    """
    assert callback.message is not None, "a button pressed under an inline-mode message"
    return callback.message


def shows(message: MaybeInaccessibleMessageUnion, markup: InlineKeyboardMarkup) -> bool:
    """The pressed message has this keyboard already, so an edit to it would change nothing."""
    # Compared as plain data: the markup of an update carries its bot, so `==` never holds.
    return (
        isinstance(message, Message)
        and message.reply_markup is not None
        and message.reply_markup.model_dump() == markup.model_dump()
    )


async def retick(
    message: MaybeInaccessibleMessageUnion, markup: InlineKeyboardMarkup, show_anew: Callable[[], Awaitable[object]]
) -> None:
    """Show a step's keyboard with its new ticks in the pressed message, or via `show_anew` when that one is out of reach."""
    if not isinstance(message, Message):
        await show_anew()
    elif not shows(message, markup):
        await message.edit_reply_markup(reply_markup=markup)


async def clear_buttons(message: MaybeInaccessibleMessageUnion) -> None:
    """Take the buttons off the pressed message; one out of the bot's sight keeps them, stale once the step moved on."""
    if isinstance(message, Message):
        await message.edit_reply_markup(reply_markup=None)


async def replace_text(
    message: MaybeInaccessibleMessageUnion, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Turn the pressed message into `text`; out of the bot's sight, send `text` as a new message instead."""
    if isinstance(message, Message):
        await message.edit_text(text, reply_markup=reply_markup)
    else:
        await message.answer(text, reply_markup=reply_markup)


async def replace_photo(
    message: MaybeInaccessibleMessageUnion, photo: InputFile | str, caption: str, reply_markup: InlineKeyboardMarkup
) -> Message:
    """Turn the pressed message into another photo; out of the bot's sight, send the photo as a new message instead."""
    if isinstance(message, Message):
        edited = await message.edit_media(InputMediaPhoto(media=photo, caption=caption), reply_markup=reply_markup)
        assert isinstance(edited, Message)  # Telegram answers True only for an inline-mode message
        return edited
    return await message.answer_photo(photo, caption=caption, reply_markup=reply_markup)
