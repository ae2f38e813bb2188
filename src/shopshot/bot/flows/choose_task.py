"""Choosing what to make from the photo: a new backdrop, a new fashion model, or mannequin to model."""

from collections.abc import Sequence

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, MaybeInaccessibleMessageUnion
from aiogram.utils.i18n import gettext as _

from shopshot.bot import keyboards
from shopshot.bot.callbacks import TaskPicked
from shopshot.bot.flows.choose_backdrop import show_gallery
from shopshot.bot.flows.choose_model import show_models
from shopshot.bot.flows.pressed import clear_buttons
from shopshot.bot.gallery import Gallery
from shopshot.bot.looks import Look, offer_looks, offered_looks
from shopshot.bot.services import Services
from shopshot.bot.states import Studio
from shopshot.pipeline.tasks import Task


async def show_first_step(message: MaybeInaccessibleMessageUnion, state: FSMContext, gallery: Gallery, backend: str, looks: Sequence[Look] = ()) -> None:
    """After a photo: the task choice when the diffusion backend serves it, else straight to the backdrops; the seller's saved looks first."""
    await offer_looks(state, looks)
    if backend == "diffusion":
        await show_tasks(message, state)
    else:
        await show_gallery(message, state, gallery, page=0)


async def show_tasks(message: MaybeInaccessibleMessageUnion, state: FSMContext) -> None:
    """Ask what to make; every task on offer can run now; the saved looks offered with the photo first."""
    await state.set_state(Studio.choosing_task)
    await message.answer(_("What should I make from this photo?"), reply_markup=keyboards.tasks(offered_looks(await state.get_data())))


async def task_chosen(callback: CallbackQuery, callback_data: TaskPicked, state: FSMContext, services: Services) -> None:
    studio, gallery, models = services.studio, services.gallery, services.models
    task = await studio.check_task(callback_data.task)
    await state.update_data(task=task, model=None, prompt_extra="")
    await clear_buttons(callback.message)
    if task == Task.BACKDROP:
        await show_gallery(callback.message, state, gallery, page=0)
    else:
        await show_models(callback.message, state, models, page=0)
    await callback.answer()


def build_router() -> Router:
    """The choose task handlers, on a router of their own."""
    router = Router(name="choose_task")
    router.callback_query.register(task_chosen, Studio.choosing_task, TaskPicked.filter())
    return router
