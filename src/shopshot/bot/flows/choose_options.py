"""Choosing the aspect ratio and the number of variants."""

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from shopshot.bot import keyboards, texts
from shopshot.bot.callbacks import OptionPicked, Step, ratio_from_data
from shopshot.bot.states import Studio
from shopshot.pipeline.layout import VARIANT_CHOICES, ratio



async def option_picked(callback: CallbackQuery, callback_data: OptionPicked, state: FSMContext) -> None:
    data = await state.update_data(**_option(callback_data))
    await callback.answer()
    markup = keyboards.options(data["ratio"], data["variants"])
    if markup != callback.message.reply_markup:
        await callback.message.edit_reply_markup(reply_markup=markup)


def _option(picked: OptionPicked) -> dict:
    if picked.name == "ratio":
        return {"ratio": ratio(ratio_from_data(picked.value)).key}
    variants = int(picked.value) if picked.value.isdigit() else 0
    return {"variants": variants if variants in VARIANT_CHOICES else VARIANT_CHOICES[0]}


async def options_done(callback: CallbackQuery, state: FSMContext) -> None:
    data = await state.get_data()
    await state.set_state(Studio.confirming)
    text = texts.summary(data["preset"], data["ratio"], data["variants"])
    await callback.message.edit_text(text, reply_markup=keyboards.confirm())
    await callback.answer()


def build_router() -> Router:
    """The choose options handlers, on a router of their own."""
    router = Router(name="choose_options")
    router.callback_query.register(option_picked, Studio.choosing_options, OptionPicked.filter())
    router.callback_query.register(options_done, Studio.choosing_options, Step.filter(F.action == "continue"))
    return router
