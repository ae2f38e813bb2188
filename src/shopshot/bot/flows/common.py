"""/start, /help, /language and the conversation's Cancel button."""

from aiogram import F, Router
from aiogram.filters import Command, CommandStart, StateFilter, invert_f
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, MaybeInaccessibleMessageUnion, Message
from aiogram.utils.i18n import gettext as _

from shopshot.bot import keyboards, texts
from shopshot.bot.callbacks import LanguagePicked, Step
from shopshot.bot.draft import Draft
from shopshot.bot.gallery import Gallery, ProductGallery
from shopshot.bot.languages import native_name
from shopshot.bot.pressed import clear_buttons, pressed_message, replace_text
from shopshot.bot.screens import (
    from_before_the_conversation,
    show_candidates,
    show_gallery,
    show_models,
    show_options,
    show_tasks,
)
from shopshot.bot.services import Services
from shopshot.bot.states import Studio


async def cmd_start(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(texts.welcome())


async def cmd_help(message: Message) -> None:
    await message.answer(texts.help_text())


async def cancel_pressed(callback: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await clear_buttons(pressed_message(callback))
    await pressed_message(callback).answer(_("Cancelled. Send a new photo whenever you're ready."))
    await callback.answer()


async def cmd_language(message: Message, services: Services) -> None:
    i18n = services.i18n
    codes = sorted(i18n.available_locales)
    await message.answer(_("Choose your language:"), reply_markup=keyboards.languages(codes, i18n.current_locale))


async def language_chosen(
    callback: CallbackQuery, callback_data: LanguagePicked, state: FSMContext, services: Services
) -> None:
    gallery, models, languages = services.gallery, services.models, services.languages
    if callback_data.code not in languages.i18n.available_locales:
        await callback.answer()
        return
    await languages.set_locale(callback.from_user.id, callback_data.code)
    await callback.answer()
    await replace_text(
        pressed_message(callback), _("Language: {language}").format(language=native_name(callback_data.code))
    )
    await show_step(pressed_message(callback), state, gallery, models)


async def show_step(
    message: MaybeInaccessibleMessageUnion, state: FSMContext, gallery: ProductGallery, models: Gallery
) -> None:
    """Send the prompt of the seller's current step again, worded in the current language; nothing when idle."""
    step, draft = await state.get_state(), await Draft.load(state)
    if step == Studio.choosing_product.state:
        await show_candidates(message, state, gallery)
    elif step == Studio.choosing_task.state:
        await show_tasks(message, state)
    elif step == Studio.choosing_model.state:
        await show_models(message, state, models, page=0)
    elif step == Studio.choosing_backdrop.state:
        await show_gallery(message, state, gallery, page=0)
    elif step == Studio.choosing_options.state:
        await show_options(message, state, draft)
    elif step == Studio.writing_detail.state:
        await message.answer(texts.detail_prompt())
    elif step == Studio.confirming.state:
        await message.answer(texts.summary_of(draft), reply_markup=keyboards.confirm())


def build_router() -> Router:
    """The common handlers, on a router of their own."""
    router = Router(name="common")
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_help, Command("help"))
    # Only the current conversation's Cancel: an old one, or one pressed with none going, falls through to "no longer active".
    router.callback_query.register(
        cancel_pressed, Step.filter(F.action == "cancel"), StateFilter(Studio), invert_f(from_before_the_conversation)
    )
    router.message.register(cmd_language, Command("language"))
    router.callback_query.register(language_chosen, LanguagePicked.filter())
    return router
