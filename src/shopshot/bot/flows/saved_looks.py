"""Saved looks: Save this look under a result; a saved look's button with the next photo goes straight to its summary."""

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from shopshot.bot import texts
from shopshot.bot.callbacks import LookPicked, ResultAction
from shopshot.bot.draft import Draft
from shopshot.bot.looks import look_of, offered_look
from shopshot.bot.pressed import clear_buttons, pressed_message
from shopshot.bot.screens import show_summary, stale_button
from shopshot.bot.services import Services
from shopshot.bot.states import Studio
from shopshot.pipeline.packs import pack, precheck
from shopshot.pipeline.tasks import Task


async def look_saved(callback: CallbackQuery, callback_data: ResultAction, services: Services) -> None:
    studio = services.studio
    spec = await studio.owned_job(callback_data.job_id, callback.from_user.id)
    if spec is None or spec.task != Task.BACKDROP:  # gone, someone else's, or never offered (a model task's)
        await stale_button(callback)
        return
    await studio.looks.save(callback.from_user.id, look_of(spec))
    await callback.answer(texts.look_saved())


async def look_chosen(callback: CallbackQuery, callback_data: LookPicked, state: FSMContext) -> None:
    draft = await Draft.load(state)
    look = offered_look(draft, callback_data.id)
    if look is None:
        await stale_button(callback)
        return
    await callback.answer()
    chosen = pack(look.pack) if look.pack else None
    if chosen is not None and (refusals := precheck((draft.width, draft.height), chosen)):
        # this photo is too small for the look's pack: said now, and the first step stays for another choice
        await pressed_message(callback).answer(texts.pack_refused(chosen, refusals))
        return
    await clear_buttons(pressed_message(callback))
    await Draft.update(state, **look.choices())
    await show_summary(pressed_message(callback), state)


def build_router() -> Router:
    """The saved looks' handlers, on a router of their own."""
    router = Router(name="saved_looks")
    router.callback_query.register(look_saved, ResultAction.filter(F.action == "save"))
    router.callback_query.register(
        look_chosen, StateFilter(Studio.choosing_task, Studio.choosing_backdrop), LookPicked.filter()
    )
    return router
