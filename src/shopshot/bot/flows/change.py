"""Changing one choice from the summary: that step alone, the other choices kept, then the summary again."""

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from shopshot.bot import keyboards, texts
from shopshot.bot.callbacks import ChangePicked, Step
from shopshot.bot.draft import Draft
from shopshot.bot.pressed import clear_buttons, pressed_message, replace_text
from shopshot.bot.screens import (
    ask_detail,
    offers_detail,
    show_candidates,
    show_gallery,
    show_models,
    show_options,
    stale_button,
)
from shopshot.bot.services import Services
from shopshot.bot.states import Studio


def changeable(draft: Draft) -> list[str]:
    """The choices a summary can change: the products kept (of a photo with several), the backdrop (the scene of a model
    task), format and number, and the detail line and model where they apply."""
    parts = ["product"] if len(draft.candidates) > 1 else []
    parts += ["backdrop", "options"]
    if offers_detail(draft):
        parts.append("detail")
    if draft.model:
        parts.append("model")
    return parts


async def change_pressed(callback: CallbackQuery, state: FSMContext) -> None:
    draft = await Draft.load(state)
    await replace_text(
        pressed_message(callback),
        _("What would you like to change?"),
        keyboards.changes(changeable(draft), bool(draft.model)),
    )
    await callback.answer()


async def change_chosen(
    callback: CallbackQuery, callback_data: ChangePicked, state: FSMContext, services: Services
) -> None:
    gallery, models = services.gallery, services.models
    draft = await Draft.load(state)
    part = callback_data.part
    if part not in changeable(draft):  # forged, or offered by an older bot
        await stale_button(callback)
        return
    await clear_buttons(pressed_message(callback))
    # Those steps would otherwise go on down the whole path; the options step ends at the summary anyway.
    await Draft.update(state, changing=part != "options")
    if part == "product":
        await show_candidates(pressed_message(callback), state, gallery)
    elif part == "backdrop":
        await show_gallery(pressed_message(callback), state, gallery, gallery.page_of(draft.preset_key))
    elif part == "options":
        await show_options(pressed_message(callback), state, draft)
    elif part == "detail":
        await ask_detail(pressed_message(callback), state)
    else:
        await show_models(pressed_message(callback), state, models, models.page_of(draft.model_key))
    await callback.answer()


async def change_dropped(callback: CallbackQuery, state: FSMContext) -> None:
    await replace_text(pressed_message(callback), texts.summary_of(await Draft.load(state)), keyboards.confirm())
    await callback.answer()


def build_router() -> Router:
    """The change handlers, on a router of their own."""
    router = Router(name="change")
    router.callback_query.register(change_pressed, Studio.confirming, Step.filter(F.action == "change"))
    router.callback_query.register(change_dropped, Studio.confirming, ChangePicked.filter(F.part == "back"))
    router.callback_query.register(change_chosen, Studio.confirming, ChangePicked.filter())
    return router
