"""/forget: asked first, done only by the confirm button of the seller's latest question."""

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from shopshot.bot import credits, keyboards
from shopshot.bot.callbacks import ForgetChoice
from shopshot.bot.pressed import pressed_message, replace_text
from shopshot.bot.screens import sender_id, stale_button
from shopshot.bot.services import Services


async def cmd_forget(message: Message, services: Services) -> None:
    studio = services.studio
    token = await studio.ask_forget(sender_id(message))
    await message.answer(
        _(
            "Delete your photos, results, choices, saved looks and language setting? Jobs not delivered yet "
            "are dropped. This cannot be undone."
        ),
        reply_markup=keyboards.forget(token),
    )


async def forget_confirmed(
    callback: CallbackQuery, callback_data: ForgetChoice, state: FSMContext, services: Services
) -> None:
    studio, board = services.studio, services.board
    if not await studio.answer_forget(callback.from_user.id, callback_data.token):
        await stale_button(callback)
        return
    for job_id, spec in (await studio.forget(callback.from_user.id)).items():
        given_back = await studio.release_hold(
            spec.user_id, job_id, "forgotten"
        )  # released by forget: its numbers again
        await board.close(
            job_id, spec.chat_id, spec.status_message_id, credits.with_given_back(_("❌ Not done."), given_back)
        )
    await state.clear()
    await replace_text(
        pressed_message(callback), _("Done: I deleted your photos, results, choices, saved looks and language setting.")
    )
    await callback.answer()


async def forget_declined(callback: CallbackQuery, callback_data: ForgetChoice, services: Services) -> None:
    studio = services.studio
    if not await studio.answer_forget(callback.from_user.id, callback_data.token):
        await stale_button(callback)
        return
    await replace_text(pressed_message(callback), _("Nothing was deleted."))
    await callback.answer()


def build_router() -> Router:
    """The /forget handlers, on a router of their own, ahead of the conversation's: the question is not a step."""
    router = Router(name="forget")
    router.message.register(cmd_forget, Command("forget"))
    router.callback_query.register(forget_confirmed, ForgetChoice.filter(F.action == "delete"))
    router.callback_query.register(forget_declined, ForgetChoice.filter(F.action == "keep"))
    return router
