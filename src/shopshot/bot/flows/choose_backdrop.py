"""Choosing a backdrop from the numbered gallery."""

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, MaybeInaccessibleMessageUnion, Message
from aiogram.utils.i18n import gettext as _

from shopshot.bot import keyboards
from shopshot.bot.callbacks import BackdropPicked, GalleryPage
from shopshot.bot.flows.choose_options import show_options
from shopshot.bot.flows.pressed import clear_buttons, remove
from shopshot.bot.gallery import Gallery
from shopshot.bot.states import Studio
from shopshot.pipeline.presets import backdrop

DEFAULT_RATIO, DEFAULT_VARIANTS = "1:1", 2


async def show_gallery(message: MaybeInaccessibleMessageUnion, state: FSMContext, gallery: Gallery, page: int) -> Message:
    """Send one backdrop gallery page with its numbered buttons and enter the backdrop choice; return the page sent."""
    await state.set_state(Studio.choosing_backdrop)
    image_key = (await state.get_data()).get("image_key")
    return await send_page(message, gallery, page, _("Choose a backdrop by its number:"), BackdropPicked, GalleryPage, image_key)


async def send_page(
    message: MaybeInaccessibleMessageUnion, gallery: Gallery, page: int, caption: str, picked: type[CallbackData], paging: type[CallbackData],
    image_key: str | None = None,
) -> Message:
    """One gallery page, for the seller's photo at `image_key`, as a photo with numbered buttons; a shared page's file id is kept for the next seller."""
    markup = keyboards.gallery(gallery.items(page), page, gallery.pages, picked, paging)
    sent = await message.answer_photo(await gallery.photo(page, image_key), caption=caption, reply_markup=markup)
    gallery.remember(page, sent.photo[-1].file_id, image_key)
    return sent


async def page_chosen(callback: CallbackQuery, callback_data: GalleryPage, state: FSMContext, gallery: Gallery) -> None:
    await callback.answer()
    await remove(callback.message)
    await show_gallery(callback.message, state, gallery, callback_data.page % gallery.pages)


async def backdrop_chosen(callback: CallbackQuery, callback_data: BackdropPicked, state: FSMContext) -> None:
    chosen = backdrop(callback_data.key)
    data = await state.update_data(preset=chosen.key, ratio=DEFAULT_RATIO, variants=DEFAULT_VARIANTS)
    await clear_buttons(callback.message)
    await show_options(callback.message, state, data)
    await callback.answer()


def build_router() -> Router:
    """The choose backdrop handlers, on a router of their own."""
    router = Router(name="choose_backdrop")
    router.callback_query.register(page_chosen, Studio.choosing_backdrop, GalleryPage.filter())
    router.callback_query.register(backdrop_chosen, Studio.choosing_backdrop, BackdropPicked.filter())
    return router
