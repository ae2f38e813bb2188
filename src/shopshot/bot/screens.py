"""The screens and helpers the flows share: each flow registers its own handlers and imports these, never another flow.

A step's screen (`show_*`) sets the step and sends its prompt; the markups are the steps' keyboards
built from the conversation data; a handler that moves the conversation on calls the next step's
screen from here, so no flow needs another to say what comes next.
"""

from collections.abc import Callable, Sequence
from io import BytesIO

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    Document,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessageUnion,
    Message,
    PhotoSize,
)
from aiogram.utils.i18n import gettext as _

from shopshot.bot import batch, keyboards, texts
from shopshot.bot.callbacks import BackdropPicked, GalleryPage, ModelPage, ModelPicked, ResultAction
from shopshot.bot.draft import Draft
from shopshot.bot.file_names import PLAIN_PHOTO, photo_stem
from shopshot.bot.gallery import Gallery, ProductGallery
from shopshot.bot.limits import Ticket
from shopshot.bot.looks import Look, offer_looks, offered_looks
from shopshot.bot.pressed import pressed_message, replace_photo, replace_text, shows
from shopshot.bot.states import Studio
from shopshot.bot.studio import Studio as StudioService
from shopshot.bot.studio import new_job_id
from shopshot.pipeline.layout import VARIANT_CHOICES
from shopshot.pipeline.presets import offers_variants
from shopshot.queue.spec import JobSpec


async def stale_button(callback: CallbackQuery) -> None:
    """Answer a button that no longer acts (an old step's, a used one, a forged one) without an alert."""
    await callback.answer(_("This button is no longer active."), show_alert=False)


def sender_id(message: Message) -> int:
    """The seller who sent the message; in a private chat with the bot every message has one."""
    assert message.from_user is not None, "a message from a channel, which the bot is in none of"
    return message.from_user.id


def checked_file(message: Message, studio: StudioService) -> tuple[PhotoSize | Document, str]:
    """The largest size of a photo, or the file, checked by its declared size and type before download; and its file stem."""
    if message.document:
        document = message.document
        studio.check_upload(document.file_size, document.mime_type, document.file_name)
        return document, photo_stem(document.file_name)
    assert message.photo, "the intake handlers take photos and files only"
    file = message.photo[-1]
    studio.check_upload(file.file_size)
    return file, PLAIN_PHOTO


async def downloaded(bot: Bot, file: PhotoSize | Document) -> bytes:
    """The file's bytes, read into memory."""
    data = await bot.download(file.file_id)
    assert isinstance(data, BytesIO)  # no destination given: aiogram answers a BytesIO
    return data.getvalue()


async def from_before_the_conversation(callback: CallbackQuery, state: FSMContext) -> bool:
    """A conversation button under a message older than the one the current conversation started at."""
    since = (await Draft.load(state)).since_message_id
    about_a_job = (callback.data or "").startswith(f"{ResultAction.__prefix__}:")  # bound to its job, not the step
    if not since or about_a_job or callback.message is None:
        return False
    return callback.message.message_id < since


async def show_first_step(
    message: MaybeInaccessibleMessageUnion,
    state: FSMContext,
    gallery: Gallery,
    backend: str,
    looks: Sequence[Look] = (),
) -> None:
    """After a photo: the task choice when the diffusion backend serves it, else the backdrops; the seller's saved looks first."""
    await offer_looks(state, looks)
    if backend == "diffusion":
        await show_tasks(message, state)
    else:
        await show_gallery(message, state, gallery, page=0)


async def show_tasks(message: MaybeInaccessibleMessageUnion, state: FSMContext) -> None:
    """Ask what to make; every task on offer can run now; the saved looks offered with the photo first."""
    await state.set_state(Studio.choosing_task)
    await message.answer(
        _("What should I make from this photo?"), reply_markup=keyboards.tasks(offered_looks(await Draft.load(state)))
    )


async def show_candidates(message: MaybeInaccessibleMessageUnion, state: FSMContext, gallery: ProductGallery) -> None:
    """Send the numbered picture of the photo's products with a toggle each, and enter the choice."""
    await state.set_state(Studio.choosing_product)
    draft = await Draft.load(state)
    await message.answer_photo(
        await gallery.candidates(draft.photo_key),
        caption=texts.candidates_prompt(),
        reply_markup=candidates_markup(draft),
    )


def candidates_markup(draft: Draft) -> InlineKeyboardMarkup:
    return keyboards.candidates(len(draft.candidates), draft.chosen)


async def show_gallery(
    message: MaybeInaccessibleMessageUnion, state: FSMContext, gallery: Gallery, page: int
) -> Message:
    """Send one backdrop gallery page with its numbered buttons and enter the backdrop choice; return the page sent."""
    await state.set_state(Studio.choosing_backdrop)
    draft = await Draft.load(state)
    return await send_page(
        message,
        gallery,
        page,
        _("Choose a backdrop by its number:"),
        backdrop_markup(gallery, page, draft),
        draft.image_key,
    )


def backdrop_markup(gallery: Gallery, page: int, draft: Draft) -> InlineKeyboardMarkup:
    # The backdrop already used (shown again from a result) or chosen (changed from the summary) is ticked; the saved
    # looks offered with the photo come first, on every page.
    return keyboards.gallery(
        gallery.items(page), page, gallery.pages, BackdropPicked, GalleryPage, draft.preset, offered_looks(draft)
    )


async def send_page(
    message: MaybeInaccessibleMessageUnion,
    gallery: Gallery,
    page: int,
    caption: str,
    markup: InlineKeyboardMarkup,
    image_key: str | None = None,
) -> Message:
    """One gallery page for the seller's photo at `image_key`, a photo with numbered buttons; a shared page's file id is kept."""
    sent = await message.answer_photo(await gallery.photo(page, image_key), caption=caption, reply_markup=markup)
    gallery.remember(page, _photo_file_id(sent), image_key)
    return sent


async def turn_page(
    message: MaybeInaccessibleMessageUnion,
    gallery: Gallery,
    page: int,
    caption: str,
    markup: InlineKeyboardMarkup,
    image_key: str | None = None,
) -> None:
    """Show another page (of the photo at `image_key`) in the pressed gallery message (in a new one once the bot cannot see it)."""
    if shows(message, markup):
        return  # the page shown (its number, between the arrows, was pressed): an edit would change nothing
    shown = await replace_photo(message, await gallery.photo(page, image_key), caption, markup)
    gallery.remember(page, _photo_file_id(shown), image_key)


def _photo_file_id(sent: Message) -> str:
    assert sent.photo, "a photo message Telegram answered with carries its sizes"
    return sent.photo[-1].file_id


async def show_models(message: MaybeInaccessibleMessageUnion, state: FSMContext, models: Gallery, page: int) -> None:
    """Send one page of the model gallery and enter the model choice."""
    await state.set_state(Studio.choosing_model)
    await send_page(
        message,
        models,
        page,
        _("Choose a model by their number:"),
        models_markup(models, page, await Draft.load(state)),
    )


def models_markup(models: Gallery, page: int, draft: Draft) -> InlineKeyboardMarkup:
    return keyboards.gallery(models.items(page), page, models.pages, ModelPicked, ModelPage, draft.model)


async def show_options(message: MaybeInaccessibleMessageUnion, state: FSMContext, draft: Draft) -> None:
    """Ask for the format and the number of variants (and, for diffusion backdrops, an optional detail)."""
    await state.set_state(Studio.choosing_options)
    if draft.variants not in variant_counts(draft):
        draft = (await Draft.load(state)).with_changes(
            variants=variant_counts(draft)[0]
        )  # what is stored, the count on offer
        await draft.save(state)
    await message.answer(texts.options_prompt(draft.preset_key), reply_markup=options_markup(draft))


def options_markup(draft: Draft) -> InlineKeyboardMarkup:
    return keyboards.options(
        draft.ratio,
        draft.variants,
        ratios=draft.makes_backdrop,
        detail=offers_detail(draft),
        counts=variant_counts(draft),
        packs=draft.makes_backdrop,
        chosen_pack=draft.pack,
    )


def variant_counts(draft: Draft) -> tuple[int, ...]:
    """The image counts on offer: one only, where every image would be the same (a pure white backdrop)."""
    return VARIANT_CHOICES if offers_variants(draft.preset_key, draft.task) else (1,)


def offers_detail(draft: Draft) -> bool:
    """The optional detail line is for backdrops the diffusion backend makes, and only then on the keyboard."""
    return draft.makes_backdrop and draft.backend == "diffusion"


async def ask_detail(message: MaybeInaccessibleMessageUnion, state: FSMContext) -> None:
    """Ask for the optional detail line and wait for it."""
    await state.set_state(Studio.writing_detail)
    await message.answer(texts.detail_prompt())


async def show_summary(message: MaybeInaccessibleMessageUnion, state: FSMContext, edit: bool = False) -> None:
    """Show what will be made with Confirm, in a new message or (`edit`) in the pressed one; any change of a choice is over."""
    draft = (await Draft.load(state)).with_changes(
        job_id=new_job_id(), changing=False
    )  # the job this summary's Confirm queues, once
    await draft.save(state)
    await state.set_state(Studio.confirming)
    if edit:
        await replace_text(message, texts.summary_of(draft), keyboards.confirm())
    else:
        await message.answer(texts.summary_of(draft), reply_markup=keyboards.confirm())


async def queue_job(
    callback: CallbackQuery,
    studio: StudioService,
    ticket: Ticket,
    spec_for: Callable[[int], JobSpec],
    job_id: str | None = None,
) -> None:
    """Send the job's status message, then queue the job; a status message that fails gives the ticket back."""
    job_id = job_id or new_job_id()  # known before the status message, whose Cancel names it
    status = await _queued_status(callback, studio, ticket, job_id, [job_id])
    await studio.queue(spec_for(status.message_id), ticket, job_id)


async def queue_batch(
    callback: CallbackQuery,
    studio: StudioService,
    ticket: Ticket,
    collected: dict,
    first: JobSpec,
    batch_id: str,
    job_ids: list[str],
) -> None:
    """Send the batch's one status message, then record the `collected` batch and hold its jobs (under `job_ids`, one per photo,
    as admitted); a status that fails gives the slots and the credits back."""
    photos, refused = batch.numbered(collected)
    status = await _queued_status(callback, studio, ticket, batch_id, job_ids)
    specs = batch.batch_specs(first.with_changes(status_message_id=status.message_id), photos, batch_id, job_ids)
    await studio.queue_batch(batch_id, specs, refused, ticket)


async def _queued_status(
    callback: CallbackQuery, studio: StudioService, ticket: Ticket, cancel_id: str, job_ids: list[str]
) -> Message:
    """The status message whose Cancel names `cancel_id`; one that fails gives the ticket's slots and the jobs' held credits back."""
    try:
        return await pressed_message(callback).answer(_("⏳ Queued…"), reply_markup=keyboards.queued(cancel_id))
    except Exception:
        await studio.release(ticket)
        await studio.release_holds(callback.from_user.id, job_ids, "not queued")
        raise
