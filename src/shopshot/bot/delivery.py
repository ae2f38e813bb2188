"""Delivering results: read job events from the Redis Stream, send the album, then acknowledge."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from typing import Literal, cast

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramEntityTooLarge, TelegramForbiddenError
from aiogram.types import BufferedInputFile, InputMediaDocument, InputMediaPhoto
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError, RedisError, ResponseError

from shopshot import metrics
from shopshot.billing.ledger import Ledger, Release, together
from shopshot.bot import credits, keyboards, texts
from shopshot.bot.batch import BatchBook, BatchResults
from shopshot.bot.file_names import result_name
from shopshot.bot.status_board import StatusBoard
from shopshot.config import QueueSettings
from shopshot.errors import InputExpired, JobFailed, ResultsRefused
from shopshot.pipeline.presets import offers_variants
from shopshot.pipeline.tasks import Task
from shopshot.queue.enqueue import retire
from shopshot.queue.events import EventKind, JobEvent, ResultImage
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import BlobStore

log = logging.getLogger(__name__)
DELIVERED_KEY = "shopshot:delivered:"
# The parts of a job's delivery Telegram has accepted: a restarted bot resumes after the last of them.
PARTS_KEY = "shopshot:delivery-parts:"
# Held by the one process delivering a job now; renewed while it works, so a dead holder's lapses soon.
DELIVERING_KEY = "shopshot:delivering:"
DELIVERING_TTL_S = 10
DELIVERED_TTL_S = 7 * 24 * 3600
# The Telegram file ids of a job's sent images ("photo:0", "document:0" …): what sends them again
# once storage has let them go (a file id re-sends without an upload). No flow re-sends one yet.
SENT_FILES_KEY = "shopshot:sent-files:"
# A job not yet delivered when its seller sent /forget, or discarded it with /cancel: its results are deleted, not sent.
FORGOTTEN_KEY = "shopshot:forgotten:"
DISCARDED = "discarded"  # the value of FORGOTTEN_KEY for a job its seller discarded alone
CLAIM_IDLE_MS = 30_000
# Telegram refuses a bot's request over 50 MB (413), files and multipart envelope together.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
ENVELOPE_BYTES = 64 * 1024  # the headers of ten parts, with room to spare
MAX_ALBUM = 10


# The album's JPEG goes as a photo, the full-resolution PNG as a document.
Upload = Literal["photo", "document"]
_SUFFIX: dict[Upload, str] = {"photo": "jpg", "document": "png"}


def keys_for(job_id: str) -> list[str]:
    """The keys a job's delivery leaves behind (its delivery lock lapses by itself), for /forget to delete."""
    return [PARTS_KEY + job_id, DELIVERED_KEY + job_id, SENT_FILES_KEY + job_id]


async def delivered(redis: Redis, job_id: str) -> bool:
    """True once a job's results (or its failure) reached its seller."""
    return bool(await redis.exists(DELIVERED_KEY + job_id))


async def being_delivered(redis: Redis, job_id: str) -> bool:
    """True while a replica holds the job's delivery lock."""
    return bool(await redis.exists(DELIVERING_KEY + job_id))


async def forget_job(redis: Redis, job_id: str, mark: str | int, ttl_s: int) -> None:
    """Have a job's results deleted instead of sent; `mark` is DISCARDED for a job discarded alone, else the seller's id."""
    await redis.set(FORGOTTEN_KEY + job_id, mark, ex=ttl_s)


def ended_in(pipe, job_id: str) -> None:
    """Queue on a pipeline whether a job was delivered or forgotten: its reply counts the two (0 while neither)."""
    pipe.exists(DELIVERED_KEY + job_id, FORGOTTEN_KEY + job_id)


class Forgotten(Exception):
    """The seller sent /forget while their job's results were being delivered."""


@dataclass(frozen=True)
class Parcel:
    """The images one delivery sends, a job's or a whole batch's, each with the spec and number that name its file."""

    key: str  # the job or batch id the delivery's parts are checked off under
    chat_id: int
    images: list[ResultImage]
    named: list[tuple[JobSpec, int]]

    def name(self, index: int, kind: Upload) -> str:
        spec, number = self.named[index]
        return result_name(spec, number, self.images[index].suffix if kind == "document" else _SUFFIX[kind])


def parcel_of(event: JobEvent) -> Parcel:
    """A job's images, numbered from 1."""
    return Parcel(
        event.job_id,
        event.spec.chat_id,
        event.images,
        [(event.spec, number) for number in range(1, len(event.images) + 1)],
    )


class Delivery:
    """A consumer in the bot's group: delivers each job's album once, even across restarts and retries.

    `consumer` must stay the same across restarts of one replica (start_background uses the host
    name): a restarted bot then finds the entries it had read but not acknowledged and delivers them
    at once; entries left by consumers that never come back are claimed after `claim_idle_ms`.
    Whichever process sends a job's results holds a lock on the job meanwhile: two replicas given one
    name, or a replica claiming an entry whose slow delivery is still running, never send it twice.
    """

    def __init__(
        self,
        bot: Bot,
        redis: Redis,
        settings: QueueSettings,
        i18n: I18n,
        consumer: str,
        board: StatusBoard,
        blobs: BlobStore,
        ledger: Ledger | None = None,
    ) -> None:
        self.bot = bot
        self.blobs = blobs
        self.ledger = ledger  # a delivered job's hold is captured, any other's released; None: holds are not looked at
        self.board = board
        self.redis = redis
        self.stream = settings.events_stream
        self.group = settings.events_group
        self.i18n = i18n
        self.consumer = consumer
        self.claim_idle_ms = CLAIM_IDLE_MS
        self.result_ttl_s = settings.result_ttl_s
        self.book = BatchBook(redis, settings.failure_ttl_s)

    async def run(self) -> None:
        """Deliver what this consumer left pending, then events as they come, until cancelled."""
        await self.ensure_group()
        await self.resume()
        while True:
            await self.step(block_ms=1000)

    async def ensure_group(self) -> None:
        """Create the consumer group from the stream's start, so nothing published earlier is missed."""
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def resume(self) -> int:
        """Deliver the entries this consumer read before a restart and never acknowledged; return how many."""
        handled, after = 0, "0"
        while True:
            # Reading from an id instead of ">" returns this consumer's own pending entries.
            answer = await self.redis.xreadgroup(self.group, self.consumer, {self.stream: after}, count=10)
            entries = answer[0][1] if answer else []
            if not entries:
                return handled
            # A twin with this name may be delivering these, or a killed predecessor's lock not lapsed yet: wait that out.
            await self._handle_all(entries, wait_s=DELIVERING_TTL_S + 1)
            handled += len(entries)
            after = entries[-1][0]

    async def step(self, block_ms: int) -> int:
        """Deliver what a crashed consumer left pending, then new events; return how many were handled."""
        # XAUTOCLAIM answers [cursor, entries] on Redis 6.2 and adds deleted ids on 7.x.
        claimed = (await self.redis.xautoclaim(self.stream, self.group, self.consumer, self.claim_idle_ms, count=10))[1]
        fresh = await self.redis.xreadgroup(self.group, self.consumer, {self.stream: ">"}, count=10, block=block_ms)
        entries = claimed + [entry for _, batch in fresh for entry in batch]
        await self._handle_all(entries)
        return len(entries)

    async def _handle_all(self, entries: list, wait_s: float = 0) -> None:
        for entry_id, fields in entries:
            try:
                await self.handle(entry_id, fields, wait_s)
            except TelegramAPIError:
                # Telegram still refuses after the retry middleware gave up: the entry stays pending,
                # is claimed again after `claim_idle_ms`, and does not hold up the other chats.
                log.exception("entry %s not delivered yet; it stays pending", entry_id)
            except RedisError:
                raise  # the whole loop waits for Redis (run_forever), not this entry alone
            except Exception:
                # An entry this code cannot handle (say, from another version) must not stop the others.
                log.exception("entry %s could not be delivered; it stays pending", entry_id)

    async def handle(self, entry_id: bytes, fields: dict | None, wait_s: float = 0) -> None:
        """Deliver one event and acknowledge it only after Telegram accepted everything.

        While another process delivers the same job the entry is left alone (after waiting up to
        `wait_s` for it to finish): that process acknowledges it, or a later claim finds the job delivered.
        """
        if not fields:  # trimmed from the stream while pending (Redis 6.2 claims it as nil)
            await self.redis.xack(self.stream, self.group, entry_id)
            return
        event = JobEvent.from_fields(fields)
        # Not active any more: the status board stops editing the status message we are about to finish.
        await retire(self.redis, event.job_id)
        if event.spec.batch_id:
            await self._handle_in_batch(entry_id, event, wait_s)
            return
        async with self._delivering(event.job_id, wait_s) as mine:
            if not mine:
                log.info("job %s is being delivered by another process; entry %s left to it", event.job_id, entry_id)
                return
            if not await self.redis.exists(DELIVERED_KEY + event.job_id):
                try:
                    await self._deliver_once(event)
                except Forgotten:
                    await self._discard(event)
                    await self.redis.xdel(self.stream, entry_id)  # the event names the seller: it goes with the results
                else:
                    metrics.delivered_after(entry_id)
                    await self.redis.set(DELIVERED_KEY + event.job_id, event.kind, ex=DELIVERED_TTL_S)
                    await self._let_go([event])
                await self.redis.delete(PARTS_KEY + event.job_id)
            await self.redis.xack(self.stream, self.group, entry_id)

    @contextlib.asynccontextmanager
    async def _delivering(self, job_id: str, wait_s: float) -> AsyncIterator[bool]:
        """Hold the job's delivery lock, renewed in the background; yield False if another process holds it."""
        lock = self.redis.lock(
            DELIVERING_KEY + job_id,
            timeout=DELIVERING_TTL_S,
            blocking=wait_s > 0,
            blocking_timeout=wait_s or None,
            thread_local=False,
            raise_on_release_error=False,
        )
        if not await lock.acquire():
            yield False
            return
        keeper = asyncio.create_task(_keep(lock))
        try:
            yield True
        finally:
            keeper.cancel()
            await lock.release()

    async def _handle_in_batch(self, entry_id: bytes, event: JobEvent, wait_s: float) -> None:
        """Keep a batch job's event with its batch: the event completing the batch has the batch delivered whole first."""
        results = await self.book.record(event)
        if results is None:  # its record went with a /forget, or with the batch's delivery (this is a replay)
            await self._delete_images([event])
        elif results.complete:
            async with self._delivering(results.batch_id, wait_s) as mine:
                if not mine:
                    log.info(
                        "batch %s is being delivered by another process; entry %s left to it",
                        results.batch_id,
                        entry_id,
                    )
                    return
                await self._deliver_batch(results)
        await self.redis.xack(self.stream, self.group, entry_id)

    async def _deliver_batch(self, results: BatchResults) -> None:
        """Send a complete batch once, or delete its images if its seller forgot it meanwhile; then drop its record."""
        batch_id = results.batch_id
        if not await self.redis.exists(DELIVERED_KEY + batch_id):
            with self.i18n.context(), self.i18n.use_locale(results.language):
                try:
                    await self._send_batch(results)
                    await self._let_go(list(results.events.values()))
                    await self._capture_batch(results)
                except Forgotten:
                    await self._delete_images(list(results.events.values()))
                    release = await self._release_batch(results, results.jobs, "forgotten")
                    await self.board.close(
                        batch_id,
                        results.chat_id,
                        results.status_message_id,
                        credits.with_given_back(_("❌ Not done."), release),
                    )
                except (LookupError, TelegramBadRequest, TelegramEntityTooLarge) as error:
                    log.warning("batch %s cannot be delivered: %s", batch_id, error)
                    await self.board.close(batch_id, results.chat_id, results.status_message_id, _("❌ Not done."))
                    code = JobFailed.code if isinstance(error, LookupError) else ResultsRefused.code
                    release = await self._release_batch(results, results.jobs, code)
                    text = credits.with_given_back(texts.error(code, {}), release)
                    await self._part(batch_id, "failure", lambda: self.bot.send_message(results.chat_id, text))
                except TelegramForbiddenError:
                    log.warning("chat of batch %s is closed to the bot; dropping its results", batch_id)
                    await self._release_batch(results, results.jobs, "undeliverable")
                await self.redis.set(DELIVERED_KEY + batch_id, "done", ex=DELIVERED_TTL_S)
            await self.redis.delete(PARTS_KEY + batch_id)
        await self.book.delete(batch_id)

    async def _send_batch(self, results: BatchResults) -> None:
        """The batch's images as albums of up to ten with their files, then one summary naming each photo not made."""
        batch_id, chat_id, status_id = results.batch_id, results.chat_id, results.status_message_id
        await self._check_wanted(batch_id)
        made = [event for _, event in results.in_order() if event.kind == EventKind.DONE]
        parcel = Parcel(
            batch_id,
            chat_id,
            [image for event in made for image in event.images],
            [(event.spec, number) for event in made for number in range(1, len(event.images) + 1)],
        )
        if parcel.images:
            await self._part(
                batch_id,
                "sending",
                lambda: self.board.close(batch_id, chat_id, status_id, _("📤 Sending your images…")),
            )
            await self._send_parcel(parcel)
        await self._part(batch_id, "status", lambda: self.board.remove(batch_id, chat_id, status_id, _("✅ Done.")))
        text = (
            texts.batch_done(len(made), len(parcel.images)) if made else _("❌ No photo of this batch could be made.")
        )
        if failures := _failures(results):
            text += "\n\n" + texts.batch_failures(failures)
        # One line for the whole batch: what the photos not made gave back (a cancelled photo's, released at its cancel, again).
        unmade = [job_id for job_id, event in results.events.items() if event.kind != EventKind.DONE]
        text = credits.with_given_back(text, await self._release_batch(results, unmade, "failed"))
        await self._part(batch_id, "summary", lambda: self.bot.send_message(chat_id, text))

    async def _release_batch(self, results: BatchResults, job_ids: Iterable[str], reason: str) -> Release | None:
        """Give back the holds of these photos of a batch, once each; what came back, together (the same again when asked twice)."""
        if self.ledger is None:
            return None
        failed = {
            job_id: event.error
            for job_id, event in results.events.items()
            if event.kind not in (EventKind.DONE, EventKind.CANCELLED)
        }
        return together(
            [await self.ledger.release(results.user_id, job_id, failed.get(job_id) or reason) for job_id in job_ids]
        )

    async def _capture_batch(self, results: BatchResults) -> None:
        """The batch is delivered: each photo made spends its hold, once (a delivery resumed after a restart captures nothing more)."""
        if self.ledger is not None:
            for job_id, event in results.events.items():
                if event.kind == EventKind.DONE:
                    await self.ledger.capture(results.user_id, job_id)

    async def _delete_images(self, events: list[JobEvent]) -> None:
        """Delete the stored results of these events (none was sent, or all were)."""
        await asyncio.to_thread(self.blobs.delete, [key for event in events for key in _result_keys(event)])

    async def _let_go(self, events: list[JobEvent]) -> None:
        """Telegram holds these results now (the bot keeps their file ids): storage keeps them briefly at most."""
        keys = [key for event in events for key in _result_keys(event)]
        await asyncio.to_thread(self.blobs.expire, keys, self.blobs.settings.delivered_ttl_s)

    async def _discard(self, event: JobEvent) -> None:
        """Delete the results of a job its seller forgot or discarded before they were sent, and close its status."""
        await self._delete_images([event])
        discarded = await self.redis.get(FORGOTTEN_KEY + event.job_id) == DISCARDED.encode()
        release = await self._release(event, "cancelled" if discarded else "forgotten")
        with self.i18n.context(), self.i18n.use_locale(event.spec.language):
            await self._status(
                event, credits.with_given_back(_("🚫 Cancelled.") if discarded else _("❌ Not done."), release)
            )
        log.info("job %s was forgotten by its seller before its delivery ended; its results are deleted", event.job_id)

    async def _deliver_once(self, event: JobEvent) -> None:
        with self.i18n.context(), self.i18n.use_locale(event.spec.language):
            try:
                await self.deliver(event)
            except LookupError as error:
                log.warning("results of job %s cannot be delivered: %s", event.job_id, error)
                await self._deliver_failed(event, JobFailed.code)
            except (TelegramBadRequest, TelegramEntityTooLarge) as error:
                # A refusal that asking again cannot change: the seller hears it, and the entry is done with.
                log.warning("Telegram refuses the results of job %s: %s", event.job_id, error)
                await self._deliver_failed(event, ResultsRefused.code)
            except TelegramForbiddenError:
                log.warning("chat of job %s is closed to the bot; dropping its results", event.job_id)
                await self._release(event, "undeliverable")

    async def _deliver_failed(self, event: JobEvent, error: str) -> None:
        try:
            await self.deliver(replace(event, kind=EventKind.FAILED, error=error, images=[]))
        except (TelegramBadRequest, TelegramForbiddenError) as error:
            log.warning("chat of job %s takes no message (%s); dropping its results", event.job_id, error)

    async def deliver(self, event: JobEvent) -> None:
        """Send a finished album with its files, or the failure message with a retry button; each part once."""
        chat_id, job_id = event.spec.chat_id, event.job_id
        await self._check_wanted(job_id)
        if event.kind == EventKind.DONE:
            # A part, unlike the other status edits: repeated after a restart it would undo the fallback text below.
            await self._part(job_id, "sending", lambda: self._status(event, _("📤 Sending your images…")))
            await self._send_parcel(parcel_of(event))
            # The message with the result buttons says the job is done: a status saying it too would be a second "done".
            status_id = event.spec.status_message_id
            await self._part(job_id, "status", lambda: self.board.remove(job_id, chat_id, status_id, _("✅ Done.")))
            text = texts.done(len(event.images), [image.verdict for image in event.images if image.verdict])
            markup = keyboards.results(
                job_id, offers_variants(event.spec.preset, event.spec.task), save=event.spec.task == Task.BACKDROP
            )
            await self._part(job_id, "summary", lambda: self.bot.send_message(chat_id, text, reply_markup=markup))
            if self.ledger is not None:
                await self.ledger.capture(
                    event.spec.user_id, job_id
                )  # once: a delivery resumed after a restart captures nothing more
        else:
            log.info("job %s failed: %s", job_id, event.error)
            await self._status(event, _("❌ Not done."))
            release = await self._release(event, event.error or "failed")
            text = credits.with_given_back(texts.error(event.error, event.error_params), release)
            await self._part(
                job_id, "failure", lambda: self.bot.send_message(chat_id, text, reply_markup=keyboards.retry(job_id))
            )

    async def _release(self, event: JobEvent, reason: str) -> Release | None:
        """Give a job's held credits back, once; the same numbers again when a resumed delivery asks twice."""
        return None if self.ledger is None else await self.ledger.release(event.spec.user_id, event.job_id, reason)

    async def _status(self, event: JobEvent, text: str) -> None:
        # An edit: repeating it after a restart changes nothing the seller sees, so it has no checkpoint.
        await self.board.close(event.job_id, event.spec.chat_id, event.spec.status_message_id, text)

    async def _part(self, job_id: str, name: str, send: Callable[[], Awaitable[object]]) -> None:
        """Send one part of a delivery unless an interrupted earlier delivery already got it accepted."""
        key = PARTS_KEY + job_id
        if await cast(Awaitable[int], self.redis.sismember(key, name)):
            return
        await self._check_wanted(job_id)
        await send()
        # A kill between Telegram's answer and this line repeats this one part: the window left.
        await cast(Awaitable[int], self.redis.sadd(key, name))
        await self.redis.expire(key, DELIVERED_TTL_S)

    async def _check_wanted(self, job_id: str) -> None:
        # Before each part: a /forget sent meanwhile stops the delivery at the next part, not after the last.
        if await self.redis.exists(FORGOTTEN_KEY + job_id):
            raise Forgotten(job_id)

    async def _send_parcel(self, parcel: Parcel) -> None:
        """Send the album photos, then the full-resolution files, then a note naming the files too large to send."""
        await self._send_uploads(parcel, "photo")  # album photos are 10 MB at most: none is left out
        left_out = await self._send_uploads(parcel, "document")
        if left_out:
            files = [(parcel.name(index, "document"), parcel.images[index].seed) for index in left_out]
            note = texts.files_left_out(files, MAX_UPLOAD_BYTES // 2**20)
            await self._part(parcel.key, "left-out", lambda: self.bot.send_message(parcel.chat_id, note))

    async def _send_uploads(self, parcel: Parcel, kind: Upload) -> list[int]:
        """Send the album photos or the full-resolution files in requests Telegram takes; return where the images left out are."""
        sizes = [await self._size(_key(image, kind)) for image in parcel.images]
        groups, left_out = upload_groups(sizes, MAX_UPLOAD_BYTES - ENVELOPE_BYTES)
        for number, group in enumerate(groups, start=1):
            await self._part(parcel.key, f"{kind}s:{number}", partial(self._send_group, parcel, kind, group))
        return left_out

    async def _send_group(self, parcel: Parcel, kind: Upload, indices: list[int]) -> None:
        # Each full-resolution file carries its seed in its caption: out of the way, yet there to make it again.
        uploads = [
            BufferedInputFile(await self._blob(_key(parcel.images[index], kind)), parcel.name(index, kind))
            for index in indices
        ]
        captions = [
            texts.file_caption(parcel.images[index].seed, parcel.images[index].verdict) if kind == "document" else None
            for index in indices
        ]
        chat_id = parcel.chat_id
        if len(uploads) > 1:
            media = InputMediaPhoto if kind == "photo" else InputMediaDocument
            sent = await self.bot.send_media_group(
                chat_id, [media(media=upload, caption=caption) for upload, caption in zip(uploads, captions)]
            )
        elif kind == "photo":
            sent = [await self.bot.send_photo(chat_id, uploads[0])]
        else:
            sent = [await self.bot.send_document(chat_id, uploads[0], caption=captions[0])]
        file_ids = {
            f"{kind}:{index}": file_id for index, message in zip(indices, sent) if (file_id := _file_id(message))
        }
        if file_ids:
            # As long as the job's result buttons work (RQ keeps its spec that long), not a week: ~500 bytes a job.
            pipe = self.redis.pipeline(transaction=False)
            pipe.hset(SENT_FILES_KEY + parcel.key, mapping=file_ids)
            pipe.expire(SENT_FILES_KEY + parcel.key, self.result_ttl_s)
            await pipe.execute()

    async def file_ids(self, job_id: str) -> dict[str, str]:
        """The Telegram file ids of a delivered job's (or batch's) images, by "photo:<index>" and "document:<index>"."""
        return {
            name.decode(): value.decode()
            for name, value in (
                await cast(Awaitable[dict[bytes, bytes]], self.redis.hgetall(SENT_FILES_KEY + job_id))
            ).items()
        }

    async def _size(self, key: str) -> int:
        size = await asyncio.to_thread(self.blobs.size, key)
        if not size:  # a stored result is never empty: the key is gone
            raise LookupError(f"result {key} expired before delivery")
        return size

    async def _blob(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self.blobs.get, key)
        except InputExpired:
            raise LookupError(f"result {key} expired before delivery") from None


def _file_id(message) -> str | None:
    if message.photo:
        return message.photo[-1].file_id
    return message.document.file_id if message.document else None


def _result_keys(event: JobEvent) -> list[str]:
    return [key for image in event.images for key in (image.photo_key, image.file_key)]


def _key(image: ResultImage, kind: Upload) -> str:
    return image.photo_key if kind == "photo" else image.file_key


def _failures(results: BatchResults) -> dict[int, str]:
    """Why each photo of a batch that was not made was not: refused at intake, failed, or cancelled before it started."""
    failures = {number: texts.error(error, params) for number, (error, params) in results.refused.items()}
    for number, event in results.in_order():
        if event.kind == EventKind.CANCELLED:
            failures[number] = _("Cancelled before it started.")
        elif event.kind != EventKind.DONE:
            failures[number] = texts.error(event.error, event.error_params)
    return failures


def upload_groups(sizes: list[int], budget: int) -> tuple[list[list[int]], list[int]]:
    """Split uploads, in order, into requests of at most MAX_ALBUM files and `budget` bytes; also return those over it alone."""
    groups: list[list[int]] = []
    total = 0
    left_out = [index for index, size in enumerate(sizes) if size > budget]
    for index, size in enumerate(sizes):
        if size > budget:
            continue
        if not groups or total + size > budget or len(groups[-1]) == MAX_ALBUM:
            groups.append([])
            total = 0
        groups[-1].append(index)
        total += size
    return groups, left_out


async def _keep(lock: Lock) -> None:
    """Renew a lock every third of its life until cancelled; stop if it was lost (Redis down past its life)."""
    while True:
        await asyncio.sleep(DELIVERING_TTL_S / 3)
        try:
            await lock.reacquire()
        except (LockError, RedisError) as error:
            log.warning("delivery lock %s not renewed: %s", lock.name, error)
            return


async def run_forever(component, name: str) -> None:
    """Keep a background loop alive: log and restart it after an unexpected error."""
    while True:
        try:
            await component.run()
        except Exception as error:
            # redis-py can turn a cancellation into a ConnectionError; a task being cancelled must end.
            task = asyncio.current_task()
            assert task is not None  # run as a task
            if task.cancelling():
                raise
            if isinstance(error, RedisConnectionError):  # Redis restarting: expected, no traceback each second
                log.warning("%s lost Redis (%s); reconnecting in 1 s", name, error)
            else:
                log.exception("%s stopped; restarting in 1 s", name)
            await asyncio.sleep(1)
