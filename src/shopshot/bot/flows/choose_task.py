"""Choosing what to make from the photo: a new backdrop, a new fashion model, or mannequin to model."""

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from shopshot.bot.callbacks import TaskPicked
from shopshot.bot.draft import Draft
from shopshot.bot.pressed import clear_buttons, pressed_message
from shopshot.bot.screens import show_gallery, show_models
from shopshot.bot.services import Services
from shopshot.bot.states import Studio
from shopshot.pipeline.tasks import Task


async def task_chosen(
    callback: CallbackQuery, callback_data: TaskPicked, state: FSMContext, services: Services
) -> None:
    studio, gallery, models = services.studio, services.gallery, services.models
    task = await studio.check_task(callback_data.task)
    await Draft.update(state, task=task, model=None, prompt_extra="")
    await clear_buttons(pressed_message(callback))
    if task == Task.BACKDROP:
        await show_gallery(pressed_message(callback), state, gallery, page=0)
    else:
        await show_models(pressed_message(callback), state, models, page=0)
    await callback.answer()


def build_router() -> Router:
    """The choose task handlers, on a router of their own."""
    router = Router(name="choose_task")
    router.callback_query.register(task_chosen, Studio.choosing_task, TaskPicked.filter())
    return router
