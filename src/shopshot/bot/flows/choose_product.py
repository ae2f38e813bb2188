"""Choosing which of the products found in a photo to keep, on a picture of them outlined and numbered."""

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from shopshot.bot import texts
from shopshot.bot.callbacks import ProductPicked
from shopshot.bot.draft import Draft
from shopshot.bot.gallery import ProductGallery
from shopshot.bot.pressed import clear_buttons, pressed_message, retick
from shopshot.bot.screens import candidates_markup, show_candidates, show_first_step, show_summary, stale_button
from shopshot.bot.services import Services
from shopshot.bot.states import Studio
from shopshot.bot.studio import Studio as StudioService
from shopshot.bot.studio import kept_boxes, toggled


async def candidate_toggled(
    callback: CallbackQuery, callback_data: ProductPicked, state: FSMContext, services: Services
) -> None:
    gallery = services.gallery
    draft = await Draft.load(state)
    if not 1 <= callback_data.number <= len(draft.candidates):  # forged
        await stale_button(callback)
        return
    draft = await Draft.update(state, chosen=toggled(draft.chosen, callback_data.number))
    await callback.answer()
    message = pressed_message(callback)
    await retick(message, candidates_markup(draft), lambda: show_candidates(message, state, gallery))


async def all_chosen(callback: CallbackQuery, state: FSMContext, services: Services) -> None:
    studio, gallery = services.studio, services.gallery
    every = list(range(1, len((await Draft.load(state)).candidates) + 1))
    await _go_on(callback, state, studio, gallery, every)


async def candidates_done(callback: CallbackQuery, state: FSMContext, services: Services) -> None:
    studio, gallery = services.studio, services.gallery
    chosen = (await Draft.load(state)).chosen
    if not chosen:
        await callback.answer(texts.choose_a_candidate(), show_alert=True)
        return
    await _go_on(callback, state, studio, gallery, chosen)


async def _go_on(
    callback: CallbackQuery, state: FSMContext, studio: StudioService, gallery: ProductGallery, chosen: list[int]
) -> None:
    """Keep the chosen products: their cut-out shown, the gallery rendered with them alone, then the first step (or the summary)."""
    draft = await Draft.load(state)
    keep = kept_boxes(draft.candidates, chosen)
    product = await studio.kept_product(draft.photo_key, keep)
    await clear_buttons(pressed_message(callback))
    await Draft.update(state, chosen=chosen, keep=keep)
    await pressed_message(callback).answer_photo(
        await gallery.take(draft.photo_key, callback.from_user.id, product), caption=texts.kept()
    )
    if draft.changing:  # changed from the summary: the other choices stay
        await show_summary(pressed_message(callback), state)
    else:
        await show_first_step(
            pressed_message(callback), state, gallery, draft.photo_backend, await studio.looks.of(callback.from_user.id)
        )
    await callback.answer()


def build_router() -> Router:
    """The choose product handlers, on a router of their own."""
    router = Router(name="choose_product")
    router.callback_query.register(
        candidate_toggled, Studio.choosing_product, ProductPicked.filter(F.action == "toggle")
    )
    router.callback_query.register(all_chosen, Studio.choosing_product, ProductPicked.filter(F.action == "all"))
    router.callback_query.register(
        candidates_done, Studio.choosing_product, ProductPicked.filter(F.action == "continue")
    )
    return router
