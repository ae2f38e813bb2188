"""/cancel at every stage: the conversation, a job waiting in the queue, a job already running."""

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, MaybeInaccessibleMessageUnion, Message, ReplyParameters
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from shopshot.bot import credits, keyboards
from shopshot.bot.callbacks import JobChoice
from shopshot.bot.pressed import pressed_message, replace_text
from shopshot.bot.screens import sender_id, stale_button
from shopshot.bot.services import Services
from shopshot.bot.status_board import StatusBoard
from shopshot.bot.studio import Studio
from shopshot.queue.spec import JobSpec


async def cmd_cancel(message: Message, state: FSMContext, services: Services) -> None:
    studio, board = services.studio, services.board
    if await state.get_state() is not None:
        await state.clear()
        await message.answer(_("Cancelled. Send a new photo whenever you're ready."))
        return
    await report(message, board, studio, *await studio.cancel(sender_id(message)))


async def cancel_pressed(callback: CallbackQuery, callback_data: JobChoice, services: Services) -> None:
    """Cancel under a queued job's status: the same as /cancel, for that job alone (or for a batch's photos not started)."""
    studio, board = services.studio, services.board
    if (dequeued := await studio.cancel_batch(callback.from_user.id, callback_data.job_id)) is not None:
        await report(pressed_message(callback), board, studio, dequeued, {})
        await callback.answer()
        return
    if await studio.owned_job(callback_data.job_id, callback.from_user.id) is None:
        await stale_button(callback)
        return
    await report(
        pressed_message(callback), board, studio, *await studio.cancel(callback.from_user.id, [callback_data.job_id])
    )
    await callback.answer()


async def report(
    message: MaybeInaccessibleMessageUnion,
    board: StatusBoard,
    studio: Studio,
    dequeued: dict[str, JobSpec],
    started: dict[str, JobSpec],
) -> None:
    """Close the statuses of the jobs taken off the queue, with the credits they gave back, and say so; ask about each job already running.

    A batch's status stays: the photos made or being made still come, and their delivery closes it.
    """
    alone = {job_id: spec for job_id, spec in dequeued.items() if not spec.batch_id}
    for job_id, spec in alone.items():
        given_back = await studio.release_hold(
            spec.user_id, job_id, "cancelled"
        )  # released by cancel: its numbers again
        await board.close(
            job_id, spec.chat_id, spec.status_message_id, credits.with_given_back(_("🚫 Cancelled."), given_back)
        )
    if alone:
        await message.answer(
            _("Cancelled before it started: nothing will be made or sent. Send a new photo whenever you're ready.")
        )
    if in_batches := len(dequeued) - len(alone):
        await message.answer(
            ngettext(
                "Cancelled {count} photo of your batch that had not started. The photos already made or being made come as usual.",
                "Cancelled {count} photos of your batch that had not started. The photos already made or being made come as usual.",
                in_batches,
            ).format(count=in_batches)
        )
    for job_id, spec in started.items():
        # Under its own status message, so that a seller with two jobs knows which one is meant.
        await message.answer(
            _(
                "This job has already started. Keep it and get the images as usual, or discard it: nothing is "
                "sent and its images are deleted."
            ),
            reply_markup=keyboards.started(job_id),
            reply_parameters=ReplyParameters(message_id=spec.status_message_id, allow_sending_without_reply=True),
        )
    if not (dequeued or started):
        await message.answer(
            _("There is nothing to cancel: no job of yours is waiting or running. Send a photo to start.")
        )


async def keep_pressed(callback: CallbackQuery, callback_data: JobChoice, services: Services) -> None:
    studio = services.studio
    if await studio.owned_job(callback_data.job_id, callback.from_user.id) is None:
        await stale_button(callback)
        return
    await replace_text(pressed_message(callback), _("Kept: the images come as usual."))
    await callback.answer()


async def discard_pressed(callback: CallbackQuery, callback_data: JobChoice, services: Services) -> None:
    studio = services.studio
    if await studio.owned_job(callback_data.job_id, callback.from_user.id) is None:
        await stale_button(callback)
        return
    if await studio.discard(callback_data.job_id):
        await replace_text(
            pressed_message(callback),
            _("Discarded: nothing more of this job will be sent, and its images are deleted."),
        )
    else:
        await replace_text(
            pressed_message(callback),
            _("There is nothing to cancel: no job of yours is waiting or running. Send a photo to start."),
        )
    await callback.answer()


def build_router() -> Router:
    """The cancel handlers, on a router of their own, ahead of the conversation's: their buttons are bound to a job, not a step."""
    router = Router(name="cancel")
    router.message.register(cmd_cancel, Command("cancel"))
    router.callback_query.register(cancel_pressed, JobChoice.filter(F.action == "cancel"))
    router.callback_query.register(keep_pressed, JobChoice.filter(F.action == "keep"))
    router.callback_query.register(discard_pressed, JobChoice.filter(F.action == "discard"))
    return router
