"""The buttons under finished (or failed) jobs: another backdrop, variations, try again, new photo."""

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from shopshot.bot.callbacks import ResultAction
from shopshot.bot.draft import Draft
from shopshot.bot.pressed import clear_buttons, pressed_message
from shopshot.bot.screens import queue_job, show_gallery, stale_button
from shopshot.bot.services import Services
from shopshot.bot.studio import Studio, new_job_id, pressed_key, variations_seed
from shopshot.pipeline.presets import offers_variants
from shopshot.queue.spec import JobSpec


async def another_backdrop(
    callback: CallbackQuery, callback_data: ResultAction, state: FSMContext, services: Services
) -> None:
    studio, gallery = services.studio, services.gallery
    if (spec := await _owned_spec(callback, callback_data, studio)) is None:
        return
    width, height = await studio.photo_size(spec.image_key)  # for the summary, as intake keeps it
    backend = await studio.backend_for(spec.task)
    # The backdrop used stays in the data, so the gallery ticks it; the products kept stay kept (the
    # photo's gallery pages were rendered with them alone).
    await Draft(
        image_key=spec.image_key,
        width=width,
        height=height,
        task=spec.task,
        model=spec.model,
        backend=backend,
        preset=spec.preset,
        photo_name=spec.photo_name,
        keep=[list(box) for box in spec.keep],
    ).save(state)
    sent = await show_gallery(pressed_message(callback), state, gallery, page=0)
    # From its own gallery on: a gallery shown before it, even one newer than this result, no longer acts.
    await Draft.update(state, since_message_id=sent.message_id)
    await callback.answer()


async def run_again(callback: CallbackQuery, callback_data: ResultAction, services: Services) -> None:
    studio = services.studio
    if (spec := await _owned_spec(callback, callback_data, studio)) is None:
        return
    if callback_data.action == "variations" and not offers_variants(spec.preset, spec.task):
        await stale_button(callback)  # never offered: the same image again
        return
    await studio.ensure_stored(spec.image_key)
    backend = await studio.backend_for(spec.task)
    # Each of these buttons queues one job once: a replay of it, or a double tap, finds it used.
    job_id = new_job_id()
    charge = studio.charge_for(spec.user_id, job_id, spec.task, spec.preset, spec.variants, backend)
    ticket = await studio.admit(
        spec.user_id, backend, once=pressed_key(callback_data.job_id, callback_data.action), charge=charge
    )
    if ticket is None:
        await stale_button(callback)
        return
    seed = variations_seed(spec) if callback_data.action == "variations" else spec.seed
    await queue_job(
        callback,
        studio,
        ticket,
        lambda status_id: spec.with_changes(seed=seed, status_message_id=status_id, backend=backend),
        job_id,
    )
    await clear_buttons(pressed_message(callback))
    await callback.answer(_("Queued!"))


async def _owned_spec(callback: CallbackQuery, callback_data: ResultAction, studio: Studio) -> JobSpec | None:
    # Gone, or someone else's (a forged callback): answered quietly, like any button no longer active.
    spec = await studio.owned_job(callback_data.job_id, callback.from_user.id)
    if spec is None:
        await stale_button(callback)
    return spec


async def new_photo(callback: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await pressed_message(callback).answer(_("Send me the next product photo."))
    await callback.answer()


def build_router() -> Router:
    """The results handlers, on a router of their own."""
    router = Router(name="results")
    router.callback_query.register(another_backdrop, ResultAction.filter(F.action == "backdrop"))
    router.callback_query.register(run_again, ResultAction.filter(F.action.in_({"variations", "retry"})))
    router.callback_query.register(new_photo, ResultAction.filter(F.action == "new"))
    return router
