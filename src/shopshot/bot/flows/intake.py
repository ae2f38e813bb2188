"""Receiving the seller's product photo, as a photo or as an uncompressed file."""

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Document, Message, PhotoSize
from aiogram.utils.i18n import gettext as _

from shopshot.bot.flows.choose_task import show_first_step
from shopshot.bot.gallery import Gallery
from shopshot.bot.studio import Studio



async def album_received(message: Message, state: FSMContext, bot: Bot, studio: Studio, gallery: Gallery) -> None:
    # One product per job: the first photo of an album is taken, the rest are pointed out once.
    if await studio.first_time(message.chat.id, f"album:{message.media_group_id}"):
        await message.answer(_("I work on one photo at a time, so I took the first photo of your album."))
        await _accept(message, state, bot, studio, gallery, message.photo[-1] if message.photo else message.document)


async def photo_received(message: Message, state: FSMContext, bot: Bot, studio: Studio, gallery: Gallery) -> None:
    if await studio.first_time(message.from_user.id, "file-tip"):
        await message.answer(_("Tip: Telegram compresses photos. For the sharpest result, send the picture as a file (📎 → File)."))
    await _accept(message, state, bot, studio, gallery, message.photo[-1])


async def document_received(message: Message, state: FSMContext, bot: Bot, studio: Studio, gallery: Gallery) -> None:
    studio.check_upload(message.document.file_size, message.document.mime_type)
    await _accept(message, state, bot, studio, gallery, message.document)


async def _accept(message: Message, state: FSMContext, bot: Bot, studio: Studio, gallery: Gallery, file: PhotoSize | Document) -> None:
    studio.check_upload(file.file_size)
    data = await bot.download(file.file_id)
    image_key, width, height = await studio.accept_photo(data.getvalue(), message.from_user.id)
    backend = await studio.backend_for("backdrop")
    await state.set_data({"image_key": image_key, "width": width, "height": height, "task": "backdrop", "backend": backend})
    await show_first_step(message, state, gallery, backend)


def build_router() -> Router:
    """The intake handlers, on a router of their own."""
    router = Router(name="intake")
    router.message.register(album_received, F.media_group_id)
    router.message.register(photo_received, F.photo)
    router.message.register(document_received, F.document)
    return router
