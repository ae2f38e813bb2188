"""Confirm the summary (Change and Cancel have flows of their own); Confirm queues exactly one job."""

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from shopshot.bot import credits, texts
from shopshot.bot.callbacks import Step
from shopshot.bot.file_names import PLAIN_PHOTO
from shopshot.bot.pressed import clear_buttons, replace_text
from shopshot.bot.screens import photo_count, queue_batch, queue_job, stale_button
from shopshot.bot.services import Services
from shopshot.bot.states import Studio
from shopshot.bot.studio import new_job_id, new_seed, pressed_key
from shopshot.pipeline.packs import pack
from shopshot.pipeline.tasks import Task
from shopshot.queue.spec import JobSpec


async def confirm_pressed(callback: CallbackQuery, state: FSMContext, services: Services) -> None:
    studio = services.studio
    data = await state.get_data()
    await studio.ensure_stored(data["image_key"])
    # Packs are painted by the studio at their marketplaces' sizes, whatever else is up.
    backend = "studio" if data.get("pack") else await studio.backend_for(Task(data.get("task", Task.BACKDROP)))
    job_id = data.get("job_id") or new_job_id()  # planned with the summary; one shown by an older bot has none
    # A batch's photos are queued by job ids of their own, fed in later: not charged yet (README, Billing).
    charge = None if data.get("batch") else studio.charge_for(callback.from_user.id, job_id, data.get("task", "backdrop"), data["preset"], _images(data), backend)
    # A limit (or too few credits) raises here, before anything changes: the summary and its Confirm stay for a later try.
    # The summary's job once: a tap replayed after the bot died between queueing and leaving the step finds it used.
    ticket = await studio.admit(callback.from_user.id, backend, once=pressed_key(job_id, "confirm"), count=photo_count(data), charge=charge)
    if ticket is not None and data.get("batch"):  # the planned id names the batch: its jobs get ids of their own
        await queue_batch(callback, studio, ticket, data, _spec(callback, data, backend, 0), job_id)
    elif ticket is not None:
        await queue_job(callback, studio, ticket, lambda status_id: _spec(callback, data, backend, status_id), job_id)
    held = await studio.held(callback.from_user.id, job_id) if ticket is not None else None
    if held is None:
        await clear_buttons(callback.message)
    else:  # the summary says what the job holds, and the balance left, instead of its buttons
        await replace_text(callback.message, texts.summary_of(data) + "\n\n" + credits.held(*held))
    # Left only now, so a bot that dies before queueing leaves the Confirm working; a second tap
    # (updates of one user are serialised) finds the step gone. A photo sent next starts a new batch.
    await state.set_state(None)
    await state.update_data(batch=None)
    if ticket is None:
        await stale_button(callback)
    else:
        await callback.answer(_("Queued!"))


def _spec(callback: CallbackQuery, data: dict, backend: str, status_message_id: int) -> JobSpec:
    return JobSpec(
        chat_id=callback.message.chat.id,
        user_id=callback.from_user.id,
        status_message_id=status_message_id,
        image_key=data["image_key"],
        preset=data["preset"],
        ratio=data["ratio"],
        variants=_images(data),
        seed=new_seed() if data.get("seed") is None else data["seed"],  # a saved look's seed family, else a new one
        language=get_i18n().current_locale,
        backend=backend,
        task=Task(data.get("task", Task.BACKDROP)),
        model=data.get("model"),
        prompt_extra=data.get("prompt_extra", ""),
        photo_name=data.get("photo_name", PLAIN_PHOTO),
        keep=tuple(tuple(box) for box in data.get("keep", ())),
        pack=data.get("pack"),
    )


def _images(data: dict) -> int:
    """How many images the summary's job makes: a marketplace pack's shots, else the variants chosen."""
    return len(pack(data["pack"]).shots) if data.get("pack") else data["variants"]


def build_router() -> Router:
    """The confirm handlers, on a router of their own."""
    router = Router(name="confirm")
    router.callback_query.register(confirm_pressed, Studio.confirming, Step.filter(F.action == "confirm"))
    return router
