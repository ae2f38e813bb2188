"""Choosing the fashion model (model swap, mannequin to model) from the numbered gallery."""

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from shopshot.bot.callbacks import ModelPage, ModelPicked
from shopshot.bot.draft import Draft
from shopshot.bot.pressed import clear_buttons, pressed_message
from shopshot.bot.screens import models_markup, show_gallery, show_summary, turn_page
from shopshot.bot.services import Services
from shopshot.bot.states import Studio
from shopshot.pipeline.people import model_preset


async def page_chosen(callback: CallbackQuery, callback_data: ModelPage, state: FSMContext, services: Services) -> None:
    models = services.models
    await callback.answer()
    page = callback_data.page % models.pages
    await turn_page(
        pressed_message(callback),
        models,
        page,
        _("Choose a model by their number:"),
        models_markup(models, page, await Draft.load(state)),
    )


async def model_chosen(
    callback: CallbackQuery, callback_data: ModelPicked, state: FSMContext, services: Services
) -> None:
    gallery = services.gallery
    chosen = model_preset(callback_data.key)
    draft = await Draft.update(state, model=chosen.key)
    await clear_buttons(pressed_message(callback))
    if draft.changing:  # changed from the summary: the scene and the rest stay
        await show_summary(pressed_message(callback), state)
    else:
        await show_gallery(pressed_message(callback), state, gallery, page=0)  # the scene behind the model
    await callback.answer()


def build_router() -> Router:
    """The choose model handlers, on a router of their own."""
    router = Router(name="choose_model")
    router.callback_query.register(page_chosen, Studio.choosing_model, ModelPage.filter())
    router.callback_query.register(model_chosen, Studio.choosing_model, ModelPicked.filter())
    return router
