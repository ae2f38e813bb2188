"""Receiving the seller's product photo, as a photo or as an uncompressed file; other media are named."""

from aiogram import Bot, F, Router
from aiogram.enums import ContentType
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from shopshot.bot import texts
from shopshot.bot.draft import Draft
from shopshot.bot.gallery import ProductGallery
from shopshot.bot.screens import (
    checked_file,
    downloaded,
    from_before_the_conversation,
    sender_id,
    show_candidates,
    show_first_step,
    stale_button,
)
from shopshot.bot.services import Services
from shopshot.bot.studio import Studio
from shopshot.errors import AnimatedImage, AudioNotPhoto, InputError, StickerNotPhoto, VideoNotPhoto
from shopshot.pipeline.tasks import Task

# Media that are not product photos, each answered with what it is. Telegram turns GIFs into
# animations (which carry a `document` too, so they must be caught before documents).
NOT_PHOTOS: dict[str, type[InputError]] = {
    ContentType.STICKER: StickerNotPhoto,
    ContentType.VOICE: AudioNotPhoto,
    ContentType.AUDIO: AudioNotPhoto,
    ContentType.VIDEO: VideoNotPhoto,
    ContentType.VIDEO_NOTE: VideoNotPhoto,
    ContentType.ANIMATION: AnimatedImage,
}


async def not_a_photo(message: Message) -> None:
    raise NOT_PHOTOS[message.content_type]()


async def photo_received(message: Message, state: FSMContext, bot: Bot, services: Services) -> None:
    studio, gallery = services.studio, services.gallery
    if await studio.first_time(sender_id(message), "file-tip"):
        await message.answer(
            _("Tip: Telegram compresses photos. For the sharpest result, send the picture as a file (📎 → File).")
        )
    await _accept(message, state, bot, studio, gallery)


async def document_received(message: Message, state: FSMContext, bot: Bot, services: Services) -> None:
    studio, gallery = services.studio, services.gallery
    await _accept(message, state, bot, studio, gallery)


async def _accept(message: Message, state: FSMContext, bot: Bot, studio: Studio, gallery: ProductGallery) -> None:
    file, photo_name = checked_file(message, studio)
    data = await downloaded(bot, file)
    backend = await studio.backend_for(Task.BACKDROP)
    # Checked now, not after Confirm: the studio backend only makes backdrops, which need a cut-out.
    replaces = (await Draft.load(state)).image_key  # dropped once this one is taken, unless a job uses it
    photo = await studio.accept_photo(data, sender_id(message), product_required=backend == "studio", replaces=replaces)
    if await state.get_state() is not None:
        await message.answer(_("Got a new photo: starting over with this one."))
    if photo.to_choose:  # before anything is shown with the products, the seller says which to keep
        assert photo.product is not None  # the cut-out finds its candidates with the product
        await gallery.offer(photo.key, sender_id(message), photo.product, photo.candidates)
    elif photo.product is not None:
        await message.answer_photo(
            await gallery.take(photo.key, sender_id(message), photo.product), caption=texts.kept()
        )
    await Draft(
        image_key=photo.key,
        width=photo.width,
        height=photo.height,
        task=Task.BACKDROP,
        backend=backend,
        photo_name=photo_name,
        candidates=[list(candidate.box) for candidate in photo.candidates],
        since_message_id=message.message_id,
    ).save(state)
    if photo.to_choose:
        await show_candidates(message, state, gallery)
    else:
        await show_first_step(message, state, gallery, backend, await studio.looks.of(sender_id(message)))


def build_router() -> Router:
    """The intake handlers, on a router of their own."""
    router = Router(name="intake")
    router.message.register(not_a_photo, F.content_type.in_(NOT_PHOTOS))
    router.message.register(photo_received, F.photo)
    router.message.register(document_received, F.document)
    # Ahead of the step routers: an old gallery's button must not act on the current conversation.
    router.callback_query.register(stale_button, from_before_the_conversation)
    return router
