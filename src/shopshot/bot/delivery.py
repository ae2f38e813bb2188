"""Delivering results: read job events from the Redis Stream, send the album, then acknowledge."""

import asyncio
import logging
from dataclasses import replace

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import BufferedInputFile, InputMediaDocument, InputMediaPhoto
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shopshot import metrics
from shopshot.bot import keyboards, texts
from shopshot.bot.status_board import StatusBoard
from shopshot.config import QueueSettings
from shopshot.queue.events import JobEvent, ResultImage
from shopshot.queue.enqueue import ACTIVE_KEY

log = logging.getLogger(__name__)
DELIVERED_KEY = "shopshot:delivered:"
DELIVERED_TTL_S = 7 * 24 * 3600


class Delivery:
    """A consumer in the bot's group: delivers each job's album once, even across restarts and retries."""

    def __init__(self, bot: Bot, redis: Redis, settings: QueueSettings, i18n: I18n, consumer: str, board: StatusBoard) -> None:
        self.bot = bot
        self.board = board
        self.redis = redis
        self.stream = settings.events_stream
        self.group = settings.events_group
        self.i18n = i18n
        self.consumer = consumer
        self.claim_idle_ms = 30_000

    async def run(self) -> None:
        """Deliver events until cancelled."""
        await self.ensure_group()
        while True:
            await self.step(block_ms=1000)

    async def ensure_group(self) -> None:
        """Create the consumer group from the stream's start, so nothing published earlier is missed."""
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def step(self, block_ms: int) -> int:
        """Deliver what a crashed consumer left pending, then new events; return how many were handled."""
        # XAUTOCLAIM answers [cursor, entries] on Redis 6.2 and adds deleted ids on 7.x.
        claimed = (await self.redis.xautoclaim(self.stream, self.group, self.consumer, self.claim_idle_ms, count=10))[1]
        fresh = await self.redis.xreadgroup(self.group, self.consumer, {self.stream: ">"}, count=10, block=block_ms)
        entries = claimed + [entry for _, batch in fresh for entry in batch]
        for entry_id, fields in entries:
            await self.handle(entry_id, fields)
        return len(entries)

    async def handle(self, entry_id: bytes, fields: dict) -> None:
        """Deliver one event and acknowledge it only after Telegram accepted everything."""
        event = JobEvent.from_fields(fields)
        # Not active any more: the status board stops editing the status message we are about to finish.
        await self.redis.hdel(ACTIVE_KEY, event.job_id)
        if not await self.redis.exists(DELIVERED_KEY + event.job_id):
            await self._deliver_once(event)
            metrics.delivered_after(entry_id)
            await self.redis.set(DELIVERED_KEY + event.job_id, event.kind, ex=DELIVERED_TTL_S)
        await self.redis.xack(self.stream, self.group, entry_id)

    async def _deliver_once(self, event: JobEvent) -> None:
        with self.i18n.context(), self.i18n.use_locale(event.spec.language):
            try:
                await self.deliver(event)
            except LookupError:
                log.warning("results of job %s expired before delivery", event.job_id)
                await self.deliver(replace(event, kind="failed", error="JobFailed", images=[]))
            except TelegramForbiddenError:
                log.warning("chat of job %s is closed to the bot; dropping its results", event.job_id)

    async def deliver(self, event: JobEvent) -> None:
        """Send a finished album with its files, or the failure message with a retry button."""
        chat_id = event.spec.chat_id
        if event.kind == "done":
            await self._status(event, _("✅ Done."))
            await self._send_album(chat_id, event.images)
            seeds = [image.seed for image in event.images]
            await self.bot.send_message(chat_id, texts.done(len(event.images), seeds), reply_markup=keyboards.results(event.job_id))
        else:
            log.info("job %s failed: %s", event.job_id, event.error)
            await self._status(event, _("❌ Not done."))
            await self.bot.send_message(chat_id, texts.error(event.error, event.error_params), reply_markup=keyboards.retry(event.job_id))

    async def _status(self, event: JobEvent, text: str) -> None:
        await self.board.close(event.job_id, event.spec.chat_id, event.spec.status_message_id, text)

    async def _send_album(self, chat_id: int, images: list[ResultImage]) -> None:
        photos = [BufferedInputFile(await self._blob(image.photo_key), f"shopshot-{image.seed}.jpg") for image in images]
        files = [BufferedInputFile(await self._blob(image.file_key), f"shopshot-{image.seed}.png") for image in images]
        if len(images) == 1:
            await self.bot.send_photo(chat_id, photos[0])
            await self.bot.send_document(chat_id, files[0])
            return
        await self.bot.send_media_group(chat_id, [InputMediaPhoto(media=photo) for photo in photos])
        await self.bot.send_media_group(chat_id, [InputMediaDocument(media=file) for file in files])

    async def _blob(self, key: str) -> bytes:
        data = await self.redis.get(key)
        if data is None:
            raise LookupError(f"result {key} expired before delivery")
        return data


async def run_forever(component, name: str) -> None:
    """Keep a background loop alive: log and restart it after an unexpected error."""
    while True:
        try:
            await component.run()
        except Exception:
            # redis-py can turn a cancellation into a ConnectionError; a task being cancelled must end.
            if asyncio.current_task().cancelling():
                raise
            log.exception("%s stopped; restarting in 1 s", name)
            await asyncio.sleep(1)
