"""Several photos in one send become one batch: asked about once, queued together, delivered together.

The first photo of an album starts a batch; the album's other photos, and photos or albums sent
within the window after (Telegram splits a send of twelve into 10 + 2), join it, up to
`limits.batch_photos`. The conversation's steps start with the first photo that can be used and are
asked once for all of them; a photo that cannot be used is answered under it and left out.
"""

from aiogram import Bot, F, Router
from aiogram.enums import ContentType
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, ReplyParameters
from aiogram.utils.i18n import gettext as _

from shopshot.bot import batch, texts
from shopshot.bot.draft import Draft
from shopshot.bot.screens import checked_file, downloaded, sender_id, show_first_step
from shopshot.bot.services import Services
from shopshot.bot.studio import Studio
from shopshot.errors import BatchFull, InputError
from shopshot.pipeline.tasks import Task


async def in_a_batch(message: Message, state: FSMContext) -> bool:
    """A photo or file of an album, or one sent within the window of the batch being collected."""
    collecting = (await Draft.load(state)).batch
    return message.media_group_id is not None or batch.joins(collecting, None, message.date.timestamp())


async def batch_photo_received(message: Message, state: FSMContext, bot: Bot, services: Services) -> None:
    studio, gallery = services.studio, services.gallery
    draft = await Draft.load(state)
    sent_at, group = message.date.timestamp(), message.media_group_id
    fresh = not batch.joins(draft.batch, group, sent_at)
    collecting = batch.new_collection(group, sent_at) if fresh else draft.collected
    if fresh:  # a new conversation: the photos of this send, whatever was going on before
        await message.answer(
            _(
                "📚 Several photos: they make one batch, all in the same look. Choose it once, below; I'll make "
                "every photo of this send that way."
            )
        )
        await state.set_state(None)  # no step until a photo of the batch can be used
        draft = Draft(
            task=Task.BACKDROP, backend=await studio.backend_for(Task.BACKDROP), since_message_id=message.message_id
        )
        await draft.save(state)
    try:
        if len(collecting["photos"]) >= studio.settings.limits.batch_photos:
            raise BatchFull(count=studio.settings.limits.batch_photos)
        photo = await _stored(message, bot, studio, draft.photo_backend)
    except InputError as error:
        await message.answer(
            _("Left out of the batch: {reason}").format(reason=texts.describe(type(error), error.params)),
            reply_parameters=ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True),
        )
        await Draft.update(
            state, batch=batch.with_refusal(collecting, message.message_id, group, sent_at, error.code, error.params)
        )
        return
    draft = await Draft.update(state, batch=batch.with_photo(collecting, message.message_id, group, sent_at, photo))
    if draft.image_key is None:  # the batch's first photo that can be used: it stands for all in the steps' previews
        key, name, width, height = photo
        await Draft.update(state, image_key=key, width=width, height=height, photo_name=name, candidates=[])
        await show_first_step(message, state, gallery, draft.photo_backend, await studio.looks.of(sender_id(message)))


async def _stored(message: Message, bot: Bot, studio: Studio, backend: str) -> tuple[str, str, int, int]:
    """Check, download, store and cut out one photo of a batch; its key, file stem and size. Raises InputError subclasses."""
    file, photo_name = checked_file(message, studio)
    data = await downloaded(bot, file)
    photo = await studio.accept_photo(data, sender_id(message), product_required=backend == "studio")
    return photo.key, photo_name, photo.width, photo.height


def build_router() -> Router:
    """The batch intake handler, on a router of its own, ahead of intake's one-photo handlers."""
    router = Router(name="batch")
    # By content type: an animation carries a document too, and intake names it for what it is.
    router.message.register(
        batch_photo_received, F.content_type.in_({ContentType.PHOTO, ContentType.DOCUMENT}), in_a_batch
    )
    return router
