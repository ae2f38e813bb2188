"""Confirm the summary (Change and Cancel have flows of their own); Confirm queues exactly one job, or one batch."""

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from shopshot.bot import batch, credits, texts
from shopshot.bot.callbacks import Step
from shopshot.bot.draft import Draft
from shopshot.bot.pressed import clear_buttons, pressed_message, replace_text
from shopshot.bot.screens import queue_batch, queue_job, stale_button
from shopshot.bot.services import Services
from shopshot.bot.states import Studio
from shopshot.bot.studio import new_job_id, new_seed, pressed_key
from shopshot.queue.spec import JobSpec


async def confirm_pressed(callback: CallbackQuery, state: FSMContext, services: Services) -> None:
    studio = services.studio
    draft = await Draft.load(state)
    await studio.ensure_stored(draft.photo_key)
    # Packs are painted by the studio at their marketplaces' sizes, whatever else is up.
    backend = "studio" if draft.pack else await studio.backend_for(draft.task)
    job_id = draft.job_id or new_job_id()  # planned with the summary; one shown by an older bot has none
    # A batch's photos are jobs of their own, each holding its photo's images: the planned id names the batch.
    job_ids = [new_job_id() for _ in batch.numbered(draft.collected)[0]] if draft.batch else [job_id]
    batch_id = job_id if draft.batch else ""
    charges = [
        charge
        for one in job_ids
        if (
            charge := studio.charge_for(
                callback.from_user.id, one, draft.task, draft.preset_key, draft.images, backend, batch_id
            )
        )
    ]
    # A limit (or too few credits for them all) raises here, before anything changes: the summary and its Confirm stay for a later try.
    # The summary's job once: a tap replayed after the bot died between queueing and leaving the step finds it used.
    ticket = await studio.admit(
        callback.from_user.id, backend, once=pressed_key(job_id, "confirm"), count=draft.photo_count, charges=charges
    )
    if ticket is not None and draft.batch:
        await queue_batch(
            callback, studio, ticket, draft.collected, _spec(callback, draft, backend, 0), job_id, job_ids
        )
    elif ticket is not None:
        await queue_job(callback, studio, ticket, lambda status_id: _spec(callback, draft, backend, status_id), job_id)
    held = await studio.held(callback.from_user.id, *job_ids) if ticket is not None else None
    if held is None:
        await clear_buttons(pressed_message(callback))
    else:  # the summary says what the job holds, and the balance left, instead of its buttons
        await replace_text(pressed_message(callback), texts.summary_of(draft) + "\n\n" + credits.held(*held))
    # Left only now, so a bot that dies before queueing leaves the Confirm working; a second tap
    # (updates of one user are serialised) finds the step gone. A photo sent next starts a new batch.
    await state.set_state(None)
    await Draft.update(state, batch=None)
    if ticket is None:
        await stale_button(callback)
    else:
        await callback.answer(_("Queued!"))


def _spec(callback: CallbackQuery, draft: Draft, backend: str, status_message_id: int) -> JobSpec:
    return draft.to_spec(
        pressed_message(callback).chat.id,
        callback.from_user.id,
        status_message_id,
        backend,
        get_i18n().current_locale,
        new_seed(),
    )


def build_router() -> Router:
    """The confirm handlers, on a router of their own."""
    router = Router(name="confirm")
    router.callback_query.register(confirm_pressed, Studio.confirming, Step.filter(F.action == "confirm"))
    return router
