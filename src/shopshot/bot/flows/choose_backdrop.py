"""Choosing a backdrop from the numbered gallery."""

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, MaybeInaccessibleMessageUnion, Message
from aiogram.utils.i18n import gettext as _

from shopshot.bot import keyboards
from shopshot.bot.callbacks import BackdropPicked, GalleryPage
from shopshot.bot.flows.choose_options import show_options, show_summary
from shopshot.bot.flows.pressed import clear_buttons, replace_photo, shows
from shopshot.bot.gallery import Gallery
from shopshot.bot.looks import offered_looks
from shopshot.bot.services import Services
from shopshot.bot.states import Studio
from shopshot.pipeline.presets import backdrop

DEFAULT_RATIO, DEFAULT_VARIANTS = "1:1", 2


async def show_gallery(message: MaybeInaccessibleMessageUnion, state: FSMContext, gallery: Gallery, page: int) -> Message:
    """Send one backdrop gallery page with its numbered buttons and enter the backdrop choice; return the page sent."""
    await state.set_state(Studio.choosing_backdrop)
    data = await state.get_data()
    return await send_page(message, gallery, page, _("Choose a backdrop by its number:"), _markup(gallery, page, data), data.get("image_key"))


def _markup(gallery: Gallery, page: int, data: dict) -> InlineKeyboardMarkup:
    # The backdrop already used (shown again from a result) or chosen (changed from the summary) is ticked; the saved
    # looks offered with the photo come first, on every page.
    return keyboards.gallery(gallery.items(page), page, gallery.pages, BackdropPicked, GalleryPage, data.get("preset"), offered_looks(data))


async def send_page(
    message: MaybeInaccessibleMessageUnion, gallery: Gallery, page: int, caption: str, markup: InlineKeyboardMarkup, image_key: str | None = None,
) -> Message:
    """One gallery page, for the seller's photo at `image_key`, as a photo with numbered buttons; a shared page's file id is kept for the next seller."""
    sent = await message.answer_photo(await gallery.photo(page, image_key), caption=caption, reply_markup=markup)
    gallery.remember(page, sent.photo[-1].file_id, image_key)
    return sent


async def turn_page(
    message: MaybeInaccessibleMessageUnion, gallery: Gallery, page: int, caption: str, markup: InlineKeyboardMarkup, image_key: str | None = None,
) -> None:
    """Show another page (of the seller's photo at `image_key`) in the pressed gallery message itself (in a new one, once the bot cannot see it)."""
    if shows(message, markup):
        return  # the page shown (its number, between the arrows, was pressed): an edit would change nothing
    shown = await replace_photo(message, await gallery.photo(page, image_key), caption, markup)
    gallery.remember(page, shown.photo[-1].file_id, image_key)


async def page_chosen(callback: CallbackQuery, callback_data: GalleryPage, state: FSMContext, services: Services) -> None:
    gallery = services.gallery
    await callback.answer()
    page = callback_data.page % gallery.pages
    data = await state.get_data()
    await turn_page(callback.message, gallery, page, _("Choose a backdrop by its number:"), _markup(gallery, page, data), data.get("image_key"))


async def backdrop_chosen(callback: CallbackQuery, callback_data: BackdropPicked, state: FSMContext) -> None:
    chosen = backdrop(callback_data.key)
    await clear_buttons(callback.message)
    if (await state.get_data()).get("changing"):  # changed from the summary: the other choices stay
        await state.update_data(preset=chosen.key)
        await show_summary(callback.message, state)
    else:
        data = await state.update_data(preset=chosen.key, ratio=DEFAULT_RATIO, variants=DEFAULT_VARIANTS)
        await show_options(callback.message, state, data)
    await callback.answer()


def build_router() -> Router:
    """The choose backdrop handlers, on a router of their own."""
    router = Router(name="choose_backdrop")
    router.callback_query.register(page_chosen, Studio.choosing_backdrop, GalleryPage.filter())
    router.callback_query.register(backdrop_chosen, Studio.choosing_backdrop, BackdropPicked.filter())
    return router
