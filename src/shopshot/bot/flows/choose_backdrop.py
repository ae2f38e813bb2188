"""Choosing a backdrop from the numbered gallery."""

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from shopshot.bot.callbacks import BackdropPicked, GalleryPage
from shopshot.bot.draft import DEFAULT_RATIO, DEFAULT_VARIANTS, Draft
from shopshot.bot.pressed import clear_buttons, pressed_message
from shopshot.bot.screens import backdrop_markup, show_options, show_summary, turn_page
from shopshot.bot.services import Services
from shopshot.bot.states import Studio
from shopshot.pipeline.presets import backdrop


async def page_chosen(
    callback: CallbackQuery, callback_data: GalleryPage, state: FSMContext, services: Services
) -> None:
    gallery = services.gallery
    await callback.answer()
    page = callback_data.page % gallery.pages
    draft = await Draft.load(state)
    await turn_page(
        pressed_message(callback),
        gallery,
        page,
        _("Choose a backdrop by its number:"),
        backdrop_markup(gallery, page, draft),
        draft.image_key,
    )


async def backdrop_chosen(callback: CallbackQuery, callback_data: BackdropPicked, state: FSMContext) -> None:
    chosen = backdrop(callback_data.key)
    await clear_buttons(pressed_message(callback))
    if (await Draft.load(state)).changing:  # changed from the summary: the other choices stay
        await Draft.update(state, preset=chosen.key)
        await show_summary(pressed_message(callback), state)
    else:
        draft = await Draft.update(state, preset=chosen.key, ratio=DEFAULT_RATIO, variants=DEFAULT_VARIANTS)
        await show_options(pressed_message(callback), state, draft)
    await callback.answer()


def build_router() -> Router:
    """The choose backdrop handlers, on a router of their own."""
    router = Router(name="choose_backdrop")
    router.callback_query.register(page_chosen, Studio.choosing_backdrop, GalleryPage.filter())
    router.callback_query.register(backdrop_chosen, Studio.choosing_backdrop, BackdropPicked.filter())
    return router
