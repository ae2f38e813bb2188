"""Choosing the fashion model (model swap, mannequin to model) from the numbered gallery."""

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, MaybeInaccessibleMessageUnion
from aiogram.utils.i18n import gettext as _

from shopshot.bot import keyboards
from shopshot.bot.callbacks import ModelPage, ModelPicked
from shopshot.bot.flows.choose_backdrop import send_page, show_gallery, turn_page
from shopshot.bot.flows.choose_options import show_summary
from shopshot.bot.flows.pressed import clear_buttons
from shopshot.bot.gallery import Gallery
from shopshot.bot.services import Services
from shopshot.bot.states import Studio
from shopshot.pipeline.people import model_preset


async def show_models(message: MaybeInaccessibleMessageUnion, state: FSMContext, models: Gallery, page: int) -> None:
    """Send one page of the model gallery and enter the model choice."""
    await state.set_state(Studio.choosing_model)
    await send_page(message, models, page, _("Choose a model by their number:"), _markup(models, page, await state.get_data()))


def _markup(models: Gallery, page: int, data: dict) -> InlineKeyboardMarkup:
    return keyboards.gallery(models.items(page), page, models.pages, ModelPicked, ModelPage, data.get("model"))


async def page_chosen(callback: CallbackQuery, callback_data: ModelPage, state: FSMContext, services: Services) -> None:
    models = services.models
    await callback.answer()
    page = callback_data.page % models.pages
    await turn_page(callback.message, models, page, _("Choose a model by their number:"), _markup(models, page, await state.get_data()))


async def model_chosen(callback: CallbackQuery, callback_data: ModelPicked, state: FSMContext, services: Services) -> None:
    gallery = services.gallery
    chosen = model_preset(callback_data.key)
    data = await state.update_data(model=chosen.key)
    await clear_buttons(callback.message)
    if data.get("changing"):  # changed from the summary: the scene and the rest stay
        await show_summary(callback.message, state)
    else:
        await show_gallery(callback.message, state, gallery, page=0)  # the scene behind the model
    await callback.answer()


def build_router() -> Router:
    """The choose model handlers, on a router of their own."""
    router = Router(name="choose_model")
    router.callback_query.register(page_chosen, Studio.choosing_model, ModelPage.filter())
    router.callback_query.register(model_chosen, Studio.choosing_model, ModelPicked.filter())
    return router
