"""Choosing the aspect ratio and the number of variants."""

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from shopshot.bot import keyboards, texts
from shopshot.bot.callbacks import OptionPicked, PackPicked, Step, ratio_from_data
from shopshot.bot.draft import Draft
from shopshot.bot.pressed import clear_buttons, pressed_message, replace_text, retick
from shopshot.bot.screens import ask_detail, offers_detail, options_markup, show_options, show_summary, variant_counts
from shopshot.bot.services import Services
from shopshot.bot.states import Studio
from shopshot.bot.studio import check_detail
from shopshot.pipeline.layout import ratio
from shopshot.pipeline.packs import pack, packs, precheck
from shopshot.policy import check_detail_content


async def detail_on_offer(callback: CallbackQuery, state: FSMContext) -> bool:
    """A Detail press the options keyboard offered; a forged one falls through to the stale-button answer."""
    return offers_detail(await Draft.load(state))


async def option_picked(callback: CallbackQuery, callback_data: OptionPicked, state: FSMContext) -> None:
    # A format or a count is a single format's: any pack chosen before is dropped.
    draft = await Draft.update(state, **_option(callback_data, variant_counts(await Draft.load(state))), pack=None)
    await callback.answer()
    message = pressed_message(callback)
    await retick(message, options_markup(draft), lambda: show_options(message, state, draft))


async def packs_pressed(callback: CallbackQuery, state: FSMContext) -> None:
    await replace_text(
        pressed_message(callback),
        texts.packs_prompt(),
        keyboards.packs(list(packs().values()), (await Draft.load(state)).pack),
    )
    await callback.answer()


async def formats_pressed(callback: CallbackQuery, state: FSMContext) -> None:
    draft = await Draft.load(state)
    await replace_text(pressed_message(callback), texts.options_prompt(draft.preset_key), options_markup(draft))
    await callback.answer()


async def pack_picked(callback: CallbackQuery, callback_data: PackPicked, state: FSMContext) -> None:
    chosen = pack(callback_data.key)
    draft = await Draft.load(state)
    refusals = precheck((draft.width, draft.height), chosen)
    await callback.answer()
    if refusals:  # said now, not after Confirm; the packs stay above for another choice
        await pressed_message(callback).answer(texts.pack_refused(chosen, refusals))
        return
    await Draft.update(state, pack=chosen.key, ratio=chosen.ratio)
    await show_summary(pressed_message(callback), state, edit=True)


async def packs_on_offer(callback: CallbackQuery, state: FSMContext) -> bool:
    """A pack press the options keyboard offered (a backdrop task's); a forged one falls through to the stale-button answer."""
    return (await Draft.load(state)).makes_backdrop


async def detail_pressed(callback: CallbackQuery, state: FSMContext) -> None:
    await clear_buttons(pressed_message(callback))
    await ask_detail(pressed_message(callback), state)
    await callback.answer()


async def detail_written(message: Message, state: FSMContext, services: Services) -> None:
    studio = services.studio
    detail = check_detail(message.text)
    check_detail_content(detail, studio.settings.policy)
    draft = await Draft.update(state, prompt_extra=detail)
    if draft.changing:  # changed from the summary: back to it, the other choices kept
        await show_summary(message, state)
    else:
        await show_options(message, state, draft)


def _option(picked: OptionPicked, counts: tuple[int, ...]) -> dict:
    if picked.name == "ratio":
        return {"ratio": ratio(ratio_from_data(picked.value)).key}
    variants = int(picked.value) if picked.value.isdigit() else 0
    return {"variants": variants if variants in counts else counts[0]}


async def options_done(callback: CallbackQuery, state: FSMContext) -> None:
    await show_summary(pressed_message(callback), state, edit=True)
    await callback.answer()


def build_router() -> Router:
    """The choose options handlers, on a router of their own."""
    router = Router(name="choose_options")
    router.callback_query.register(option_picked, Studio.choosing_options, OptionPicked.filter())
    router.callback_query.register(
        detail_pressed, Studio.choosing_options, Step.filter(F.action == "detail"), detail_on_offer
    )
    router.callback_query.register(
        packs_pressed, Studio.choosing_options, Step.filter(F.action == "packs"), packs_on_offer
    )
    router.callback_query.register(formats_pressed, Studio.choosing_options, Step.filter(F.action == "formats"))
    router.callback_query.register(pack_picked, Studio.choosing_options, PackPicked.filter(), packs_on_offer)
    router.message.register(detail_written, Studio.writing_detail, F.text & ~F.text.startswith("/"))
    router.callback_query.register(options_done, Studio.choosing_options, Step.filter(F.action == "continue"))
    return router
