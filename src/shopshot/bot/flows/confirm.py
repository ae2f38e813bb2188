"""Confirm, change or cancel the summary; Confirm queues exactly one job."""

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from shopshot.bot.callbacks import Step
from shopshot.bot.flows.choose_backdrop import show_gallery
from shopshot.bot.flows.pressed import clear_buttons
from shopshot.bot.gallery import Gallery
from shopshot.bot.states import Studio
from shopshot.bot.studio import Studio as StudioService
from shopshot.bot.studio import new_seed
from shopshot.queue.spec import JobSpec



async def confirm_pressed(callback: CallbackQuery, state: FSMContext, studio: StudioService) -> None:
    data = await state.get_data()
    await studio.ensure_stored(data["image_key"])
    task = data.get("task", "backdrop")
    backend = await studio.backend_for(task)
    # A limit raises here, before anything changes: the summary and its Confirm stay for a later try.
    ticket = await studio.admit(callback.from_user.id, backend)
    # Leave the confirming state: a second tap (updates of one user are serialised) finds it gone.
    await state.set_state(None)
    await clear_buttons(callback.message)
    status = await callback.message.answer(_("⏳ Queued…"))
    spec = JobSpec(
        chat_id=callback.message.chat.id,
        user_id=callback.from_user.id,
        status_message_id=status.message_id,
        image_key=data["image_key"],
        preset=data["preset"],
        ratio=data["ratio"],
        variants=data["variants"],
        seed=new_seed(),
        language=get_i18n().current_locale,
        backend=backend,
        task=task,
        model=data.get("model"),
        prompt_extra=data.get("prompt_extra", ""),
    )
    await studio.queue(spec, ticket)
    await callback.answer(_("Queued!"))


async def change_pressed(callback: CallbackQuery, state: FSMContext, gallery: Gallery) -> None:
    await clear_buttons(callback.message)
    await show_gallery(callback.message, state, gallery, page=0)
    await callback.answer()


def build_router() -> Router:
    """The confirm handlers, on a router of their own."""
    router = Router(name="confirm")
    router.callback_query.register(confirm_pressed, Studio.confirming, Step.filter(F.action == "confirm"))
    router.callback_query.register(change_pressed, Studio.confirming, Step.filter(F.action == "change"))
    return router
