"""What the conversation asks of the rest of shopshot, as plain async calls (no Message, no Bot)."""

import asyncio
import logging
import secrets
import time
import unicodedata
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from PIL import Image
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import WatchError

from shopshot import logs
from shopshot.billing.ledger import Hold, HoldStep, Ledger, Release, together
from shopshot.billing.prices import Charge, mode_of, price_per_image
from shopshot.bot import delivery, languages
from shopshot.bot.batch import BatchBook
from shopshot.bot.delivery import DISCARDED
from shopshot.bot.limits import JobLimits, Ticket
from shopshot.bot.looks import SavedLooks
from shopshot.config import Settings
from shopshot.errors import (
    DetailInvisible,
    DetailNotPlain,
    DetailStackedMarks,
    DetailTooLong,
    InputExpired,
    InvalidOption,
    NoProductFound,
    TaskUnavailable,
)
from shopshot.pipeline.cutout import Cutout
from shopshot.pipeline.gallery import THUMB, Product, prepare_product
from shopshot.pipeline.intake import check_declared, load_preview, stored_copy
from shopshot.pipeline.matte import Candidate, NormBox, product_candidates
from shopshot.pipeline.presets import LOOK_CYCLE
from shopshot.pipeline.tasks import Task
from shopshot.queue import events
from shopshot.queue.analysis import AnalysisFailed, answer_of, enqueue_analysis, withdraw_analysis
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.events import EventKind, JobEvent, publish, withdraw
from shopshot.queue.feeder import Feeder
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import BlobStore

log = logging.getLogger(__name__)

ONCE_KEY = "shopshot:once:"  # a hash per seller: the one-off hints they have seen
ONCE_TTL_S = 180 * 24 * 3600  # renewed on each hint; a seller back after half a year sees the hints again
JOBS_OF_KEY = "shopshot:jobs-of:"
PRESSED_KEY = "shopshot:pressed:"
# The token of the confirm button under a seller's latest /forget question: that button alone deletes, once.
FORGET_ASKED_KEY = "shopshot:forget-asked:"
FORGET_ASKED_S = 600  # an older question's button is stale: the seller sends /forget again
# The buttons that queue a job, each once: Confirm under a summary (keyed by the job id planned with
# it) and two under results.
ONE_SHOT_ACTIONS = ("confirm", "variations", "retry")
DETAIL_LIMIT = 120
# A decode holds the whole picture for a moment (120 MB for a 40-MP PNG): a burst of uploads is
# decoded this many at a time, the rest wait their turn, rather than all at once.
DECODES_AT_ONCE = 2
# The copy the bot checks and previews an upload on (a third of a megapixel): the product's cut-out
# is decided at 320 pixels whatever the size, and the gallery's thumbnails are rendered from it.
PREVIEW_SIDE = 2 * THUMB
# How often the bot looks for a worker's answer to its intake analysis: a small share of the second or two it takes.
ANALYSIS_POLL_S = 0.05
# Joiners hold emoji sequences and Persian or Indic words together; every other format character
# (bidi overrides, zero-width spaces) only hides or reorders text.
JOINERS = {"\u200c", "\u200d"}
# Letters that draw nothing (the Hangul fillers, the blank braille pattern): a line of them looks empty.
BLANKS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
# More combining marks than this on one letter is "Zalgo" text. Vietnamese, Thai, Arabic and the
# Indic scripts put at most two on a letter, Tibetan's stacked consonants three.
MAX_MARKS = 3


@dataclass(frozen=True)
class Photo:
    """A stored upload: its key and upright size, its product at preview size (None when none was needed
    and none was found) and the products found in it (several: the seller chooses)."""

    key: str
    width: int
    height: int
    product: Product | None
    candidates: tuple[Candidate, ...] = ()

    @property
    def to_choose(self) -> bool:
        """Several products were found: the seller says which to keep."""
        return len(self.candidates) > 1


@dataclass
class Studio:
    settings: Settings
    blobs: BlobStore
    jobs: JobQueue
    redis: AsyncRedis
    limits: JobLimits = field(init=False)
    looks: SavedLooks = field(init=False)
    decodes: asyncio.Semaphore = field(init=False)
    feeder: Feeder = field(init=False)
    book: BatchBook = field(init=False)
    # Always there, so that holds placed while billing was on are settled after it is switched off.
    ledger: Ledger = field(init=False)

    def __post_init__(self) -> None:
        self.limits = JobLimits(self.redis, self.settings.limits, self.settings.instance_name)
        self.ledger = Ledger(self.redis, self.settings.billing.free_images)
        self.looks = SavedLooks(self.redis)
        self.decodes = asyncio.Semaphore(DECODES_AT_ONCE)
        self.feeder = Feeder(self.jobs, self.settings.queue.feed_per_seller)
        self.book = BatchBook(self.redis, self.settings.queue.failure_ttl_s)

    def check_upload(self, size: int | None, mime_type: str | None = None, file_name: str | None = None) -> None:
        """Reject a file by its size and declared type before it is downloaded."""
        check_declared(size, mime_type, file_name, self.settings.limits)

    async def accept_photo(
        self, data: bytes, owner: int, product_required: bool = True, replaces: str | None = None
    ) -> Photo:
        """Validate an upload, store a re-encoded copy and cut its product out on a small copy. Raises InputError subclasses.

        NoProductFound only when `product_required`: the fashion-model tasks take photos of people
        on any background. StorageFull or TooManyUploads past the seller's storage limits. The photo
        it `replaces` in the conversation is dropped once this one is taken, unless a job uses it.
        """
        async with self.decodes:
            stored = await asyncio.to_thread(stored_copy, data, self.settings.limits)
            # From the stored copy, as a worker's intake analysis and every later step read it.
            preview, (width, height) = await asyncio.to_thread(load_preview, stored, self.settings.limits, PREVIEW_SIDE)
        key = await asyncio.to_thread(self.blobs.put_upload, stored, owner)  # stored first: a worker may cut it out
        try:
            product, candidates = await self._cut_out(key, preview)
        except NoProductFound:
            if product_required:
                await asyncio.to_thread(self.blobs.delete, [key])
                raise
            product, candidates = None, ()
        if replaces and replaces != key:
            await asyncio.to_thread(self.blobs.replace, replaces)
        return Photo(key, width, height, product, candidates)

    async def kept_product(self, key: str, keep: list[list[float]]) -> Product:
        """The stored photo's product at preview size, cut out as the seller chose (`keep`: the kept candidates' boxes; empty: all)."""
        data = await asyncio.to_thread(self.blobs.get, key)
        async with self.decodes:
            preview, _ = await asyncio.to_thread(load_preview, data, self.settings.limits, PREVIEW_SIDE)
        product, _ = await self._cut_out(key, preview, tuple((x0, y0, x1, y1) for x0, y0, x1, y1 in keep))
        return product

    async def _cut_out(
        self, key: str, preview: Image.Image, keep: tuple[NormBox, ...] = ()
    ) -> tuple[Product, tuple[Candidate, ...]]:
        """The preview's product and candidates: a neural-matte worker's when one answers in time, else the classical cut-out's."""
        analysed = await self._analysed(key, preview, keep)
        if analysed is not None:
            cutout, candidates = analysed
            return Product(np.asarray(preview), cutout), candidates
        async with self.decodes:  # the classical cut-out holds a core as a decode does
            product = await asyncio.to_thread(prepare_product, preview, keep=keep)
            candidates = () if keep else await asyncio.to_thread(product_candidates, preview)
        return product, candidates

    async def _analysed(
        self, key: str, preview: Image.Image, keep: tuple[NormBox, ...]
    ) -> tuple[Cutout, tuple[Candidate, ...]] | None:
        """A live neural-matte worker's cut-out and candidates of the stored photo, or None (none is up, or none came in time)."""
        wait_s = self.settings.limits.intake_analysis_s
        queue = await asyncio.to_thread(self.jobs.neural_queue) if wait_s else None
        if queue is None:
            return None
        job = await asyncio.to_thread(enqueue_analysis, queue, key, PREVIEW_SIDE, keep)
        deadline = time.monotonic() + wait_s
        try:
            # Polled, not a blocking read: a wait would hold one of the few threads every to_thread call shares.
            while (answer := await asyncio.to_thread(answer_of, job)) is None and time.monotonic() < deadline:
                await asyncio.sleep(ANALYSIS_POLL_S)
        except AnalysisFailed as error:
            log.warning("intake analysis %s failed; cutting out classically: %s", job.id, error)
            return None
        if answer is None:
            await asyncio.to_thread(withdraw_analysis, queue, job)
            log.info("intake analysis %s not answered within %.1f s; cutting out classically", job.id, wait_s)
        elif answer[0].image_size != preview.size:  # a worker that decodes otherwise: its cut-out does not fit
            log.warning(
                "intake analysis %s answered for a %s preview, not %s; cutting out classically",
                job.id,
                answer[0].image_size,
                preview.size,
            )
            return None
        return answer

    async def photo_size(self, key: str) -> tuple[int, int]:
        """The upright size of a stored photo, read again as at intake (raises InputExpired once it is gone)."""
        data = await asyncio.to_thread(self.blobs.get, key)
        async with self.decodes:
            _, size = await asyncio.to_thread(load_preview, data, self.settings.limits, PREVIEW_SIDE)
        return size

    async def ensure_stored(self, key: str) -> None:
        """Raise InputExpired when a stored photo's TTL has passed."""
        if not await asyncio.to_thread(self.blobs.stored, key):
            raise InputExpired()

    def charge_for(
        self, user_id: int, job_id: str, task: str, preset: str, images: int, backend: str, batch_id: str = ""
    ) -> Charge | None:
        """What a job (or one photo of batch `batch_id`) will hold, `images` at its price; None when billing is off."""
        if not self.settings.billing.enabled:
            return None
        mode = mode_of(backend, preset, self.settings.diffusion.mode)
        return Charge(user_id, job_id, images, price_per_image(self.settings.billing, task, mode), batch_id)

    async def admit(
        self,
        user_id: int,
        backend: str,
        once: str | None = None,
        count: int = 1,
        charge: Charge | None = None,
        charges: Sequence[Charge] = (),
    ) -> Ticket | None:
        """Take a slot for one job, or for each of a batch's `count` photos, within the seller's limits, holding
        its charge (a batch: `charges`, one per photo) in the same transaction (raises LimitReached or
        NotEnoughCredits for the total); None for a used one-shot button."""
        job_s = await asyncio.to_thread(self.jobs.typical_job_s, backend)
        held = [charge] if charge is not None else list(charges)
        hold = HoldStep(self.ledger, *held) if held else None
        ticket = await self.limits.admit(user_id, self.jobs.queue_for(backend).key, job_s, once, count, hold)
        if ticket is None:
            log.warning("user %s replayed a used button (%s)", logs.user_tag(self.settings, user_id), once)
        return ticket

    async def release(self, ticket: Ticket) -> None:
        """Give back a ticket whose job will not be queued."""
        await self.limits.release(ticket)

    async def held(self, user_id: int, *job_ids: str) -> tuple[Hold, int] | None:
        """What a job (or a batch's jobs, together) holds and the seller's balance now; None when it holds nothing (billing off)."""
        holds = [hold for job_id in job_ids if (hold := await self.ledger.held(job_id)) is not None]
        if not holds:
            return None
        together = Hold(job_ids[0], sum(hold.credits for hold in holds), sum(hold.free for hold in holds), 0)
        return together, (await self.ledger.wallet(user_id)).balance

    async def release_hold(self, user_id: int, job_id: str, reason: str) -> Release | None:
        """Give a job's held credits back (it will not run, or ran and failed); None when it held none."""
        return await self.ledger.release(user_id, job_id, reason)

    async def release_abandoned(self) -> int:
        """At start-up: give back the tickets this replica held when it died, before their jobs were queued."""
        return await self.limits.release_abandoned(self._release_abandoned_hold)

    async def _release_abandoned_hold(self, ticket: Ticket) -> None:
        for job_id in ticket.job_ids:  # its jobs never reached the queue: the credits held with the slots come back
            await self.release_hold(ticket.user_id, job_id, "not queued")

    async def release_holds(self, user_id: int, job_ids: Sequence[str], reason: str) -> Release | None:
        """Give back the holds of jobs that will not run (a batch's); what came back, together."""
        return together([await self.release_hold(user_id, job_id, reason) for job_id in job_ids])

    async def queue(self, spec: JobSpec, ticket: Ticket, job_id: str | None = None) -> str:
        """Put an admitted job on the render queue, under `job_id` if given; return its id.

        Callers check the photo is still stored before admitting; should it expire in the moment
        between, the worker reports InputExpired to the seller.
        """
        # The photo stays a full TTL from its latest job, for that job's "Another backdrop" and "Variations".
        await asyncio.to_thread(self.blobs.keep, spec.image_key)
        try:
            job_id = await asyncio.to_thread(self.jobs.enqueue, spec, job_id)
        except Exception:
            await self.limits.release(ticket)
            if job_id is not None:
                await self.release_hold(spec.user_id, job_id, "not queued")
            raise
        await self.limits.bind(ticket, job_id)
        await self.limits.settle(ticket)
        await self._remember(spec.user_id, job_id)
        return job_id

    async def queue_batch(
        self, batch_id: str, specs: dict[str, JobSpec], refused: dict[int, tuple[str, dict]], ticket: Ticket
    ) -> None:
        """Record an admitted batch and hold its jobs (by id) in the seller's backlog, from which they enter the queue in turns."""
        for spec in specs.values():  # as `queue` keeps a single job's photo
            await asyncio.to_thread(self.blobs.keep, spec.image_key)
        try:
            await self.book.open(batch_id, specs, refused)
            await asyncio.to_thread(self.feeder.hold, specs)
        except Exception:
            await self.limits.release(ticket)
            await self.release_holds(ticket.user_id, list(specs), "not queued")
            raise
        await self.limits.bind(ticket, *specs)
        await self.limits.settle(ticket)
        # The batch's id too: /forget then marks the batch forgotten, and its delivery stops.
        await self._remember(ticket.user_id, *specs, batch_id)

    async def _remember(self, user_id: int, *job_ids: str) -> None:
        history = JOBS_OF_KEY + str(user_id)
        pipe = self.redis.pipeline()
        pipe.sadd(history, *job_ids)
        pipe.expire(history, self.settings.queue.failure_ttl_s)
        await pipe.execute()

    async def owned_job(self, job_id: str, user_id: int) -> JobSpec | None:
        """The spec of one of this seller's jobs; None when it is gone or someone else's (logged)."""
        spec = await asyncio.to_thread(self.jobs.spec, job_id)
        if spec is not None and spec.user_id != user_id:
            log.warning(
                "user %s pressed a button naming another user's job %s", logs.user_tag(self.settings, user_id), job_id
            )
            return None
        return spec

    async def forget(self, user_id: int) -> dict[str, JobSpec]:
        """Delete a seller's images, jobs, results' events, saved looks, language and hints; return the jobs taken off the queue.

        A job running, or finished and being delivered, cannot be taken back: every job not delivered
        yet is marked forgotten, before its results go, and delivery stops at its next part and
        deletes them. The limits keep the jobs not taken off the queue, and the minute's starts stay:
        they expire within the minute, and a /forget must not reset the jobs-a-minute limit. The status
        messages of the jobs taken off the queue are the caller's to close.
        """
        job_ids = [
            job_id.decode()
            for job_id in await cast(Awaitable[set[bytes]], self.redis.smembers(JOBS_OF_KEY + str(user_id)))
        ]
        undelivered = [job_id for job_id in job_ids if not await delivery.delivered(self.redis, job_id)]
        for job_id in undelivered:
            await delivery.forget_job(self.redis, job_id, user_id, self.settings.queue.failure_ttl_s)
        dequeued = await asyncio.to_thread(self.feeder.drop, user_id)  # before any is fed
        dequeued |= await asyncio.to_thread(self.jobs.delete_jobs, job_ids)
        # The ledger stays: it is the record of what was paid and spent. Held credits of jobs that
        # will not run come back now; those of running jobs when delivery discards their results.
        for job_id in dequeued:
            await self.release_hold(user_id, job_id, "forgotten")
        await self.limits.forget(user_id, [job_id for job_id in undelivered if job_id not in dequeued])
        await asyncio.to_thread(withdraw, self.jobs.redis, self.settings.queue.events_stream, job_ids)
        await asyncio.to_thread(self.blobs.forget, user_id)
        await self.looks.forget(user_id)
        per_job = [
            key
            for job_id in job_ids
            for key in (*_delivery_keys(job_id), *_pressed_keys(job_id), *self.book.keys_for(job_id))
        ]
        await self.redis.delete(
            JOBS_OF_KEY + str(user_id), *languages.keys_for(user_id), ONCE_KEY + str(user_id), *per_job
        )
        return dequeued

    async def cancel(
        self, user_id: int, job_ids: list[str] | None = None
    ) -> tuple[dict[str, JobSpec], dict[str, JobSpec]]:
        """Take a seller's waiting jobs (all, or those of `job_ids`) off the queue and free their slots.

        Returns the jobs taken off, and those not delivered yet that a worker took first, by id: a
        running job cannot be stopped halfway; its seller may still have its results discarded.
        """
        pending = [job_id for job_id in await self._undelivered(user_id) if job_ids is None or job_id in job_ids]
        dequeued = await asyncio.to_thread(self.feeder.withdraw, user_id, pending)  # a batch's jobs not fed yet
        dequeued |= {
            job_id: spec
            for job_id in pending
            if job_id not in dequeued and (spec := await asyncio.to_thread(self.jobs.withdraw, job_id))
        }
        if dequeued:
            await self.limits.free(user_id, list(dequeued))
            for job_id in dequeued:
                await self.release_hold(user_id, job_id, "cancelled")
            await cast(
                Awaitable[int], self.redis.srem(JOBS_OF_KEY + str(user_id), *dequeued)
            )  # nothing of theirs is left to deliver or delete
        await self._end_in_batches(dequeued)
        # A batch's running photos are not asked about: they finish, and come with the rest of their batch.
        started = [job_id for job_id in pending if job_id not in dequeued]
        return dequeued, {
            job_id: spec
            for job_id in started
            if (spec := await asyncio.to_thread(self.jobs.spec, job_id)) and not spec.batch_id
        }

    async def cancel_batch(self, user_id: int, batch_id: str) -> dict[str, JobSpec] | None:
        """Take a batch's jobs that have not started off the backlog and the queue; None when it is not this seller's batch."""
        results = await self.book.results(batch_id)
        if results is None or results.user_id != user_id:
            return None
        dequeued, _ = await self.cancel(user_id, [job_id for job_id in results.jobs if job_id not in results.events])
        return dequeued

    async def _end_in_batches(self, dequeued: dict[str, JobSpec]) -> None:
        # The batch is delivered once every job has its final event: those taken off the queue get one saying so.
        stream = self.settings.queue.events_stream
        for job_id, spec in dequeued.items():
            if spec.batch_id:
                await asyncio.to_thread(publish, self.jobs.redis, stream, JobEvent(EventKind.CANCELLED, job_id, spec))

    async def discard(self, job_id: str) -> bool:
        """Have a job's results deleted instead of sent, as /forget does for all; False when they were delivered already."""
        if await delivery.delivered(self.redis, job_id):
            return False
        await delivery.forget_job(self.redis, job_id, DISCARDED, self.settings.queue.failure_ttl_s)
        return True

    async def _undelivered(self, user_id: int) -> list[str]:
        """The seller's jobs whose results were neither delivered nor discarded."""
        job_ids = [
            job_id.decode()
            for job_id in await cast(Awaitable[set[bytes]], self.redis.smembers(JOBS_OF_KEY + str(user_id)))
        ]
        pipe = self.redis.pipeline(transaction=False)
        for job_id in job_ids:
            delivery.ended_in(pipe, job_id)
        return [job_id for job_id, ended in zip(job_ids, await pipe.execute()) if not ended]

    async def ask_forget(self, user_id: int) -> str:
        """The token for the confirm button of a /forget question; it replaces any older question's."""
        token = secrets.token_hex(8)
        await self.redis.set(FORGET_ASKED_KEY + str(user_id), token, ex=FORGET_ASKED_S)
        return token

    async def answer_forget(self, user_id: int, token: str) -> bool:
        """True once, for the token of this seller's latest /forget question while it is recent; a wrong token leaves it be."""
        key = FORGET_ASKED_KEY + str(user_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(key)
            asked = await pipe.get(key)
            if asked is None or not secrets.compare_digest(asked, token.encode()):
                return False
            pipe.multi()
            pipe.delete(key)
            try:
                await pipe.execute()
            except WatchError:  # answered, or asked again, in the meantime
                return False
        return True

    async def gpu_available(self) -> bool:
        """True while a GPU worker is up, so the diffusion tasks can run."""
        return await asyncio.to_thread(self.jobs.gpu_available)

    async def check_task(self, task: str) -> Task:
        """A task that can run now; raises InvalidOption or TaskUnavailable."""
        if task not in set(Task):
            raise InvalidOption(value=task)
        await self.backend_for(Task(task))
        return Task(task)

    async def backend_for(self, task: Task) -> str:
        """The backend for a task: diffusion on GPU workers when one is up, else the CPU studio for backdrops."""
        if await self.gpu_available():
            return "diffusion"
        if task == Task.BACKDROP:
            return "studio"
        raise TaskUnavailable()

    async def first_time(self, user_id: int, topic: str) -> bool:
        """True the first time a seller reaches a one-off hint."""
        key = ONCE_KEY + str(user_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(key, topic, "1")
        pipe.expire(key, ONCE_TTL_S)
        first, _ = await pipe.execute()
        return bool(first)


def kept_boxes(candidates: list[list[float]], chosen: list[int]) -> list[list[float]]:
    """The boxes of the chosen candidates (numbered from 1); none when all are chosen, as the automatic cut-out keeps them all."""
    # Empty rather than every box: a part the worker's full-size cut-out finds besides stays too.
    if set(chosen) >= set(range(1, len(candidates) + 1)):
        return []
    return [candidates[number - 1] for number in sorted(set(chosen))]


def toggled(chosen: list[int], number: int) -> list[int]:
    """The chosen candidates' numbers with `number` added, or taken out when it was there."""
    return sorted(set(chosen) ^ {number})


def new_job_id() -> str:
    """The id of the job a summary will queue, planned with the summary so that its Confirm queues it once."""
    return secrets.token_hex(16)


def new_seed() -> int:
    """A fresh seed for a job, recorded with the results so they can be reproduced; a multiple of
    LOOK_CYCLE, so the job's first image is the look the gallery shows."""
    return LOOK_CYCLE * secrets.randbelow(2**31 // LOOK_CYCLE)


def variations_seed(spec: JobSpec) -> int:
    """The first seed of a job's Variations: past the seeds it sent, so the looks go on from there."""
    return spec.seed + spec.variants


def check_detail(text: str | None) -> str:
    """A seller's one-line addition, trimmed; DetailTooLong past the limit or over several lines, DetailNotPlain for hidden marks."""
    detail = " ".join((text or "").split())
    if len(detail) > DETAIL_LIMIT or "\n" in (text or "").strip():
        raise DetailTooLong(limit=DETAIL_LIMIT)
    if any(unicodedata.category(char) in ("Cc", "Cf") and char not in JOINERS for char in detail):
        raise DetailNotPlain()
    if detail:
        check_detail_characters(detail)
    return detail


def check_detail_characters(detail: str) -> None:
    """Raise DetailInvisible for a line that shows nothing, DetailStackedMarks for marks piled on one letter."""
    if not any(unicodedata.category(char)[0] not in "ZCM" and char not in BLANKS for char in detail):
        raise DetailInvisible()
    marks = 0
    for char in unicodedata.normalize("NFC", detail):
        marks = marks + 1 if unicodedata.category(char)[0] == "M" else 0
        if marks > MAX_MARKS:
            raise DetailStackedMarks()


def pressed_key(job_id: str, action: str) -> str | None:
    """The one-shot key of a result button that queues a job; None for the buttons that may be pressed again."""
    return f"{PRESSED_KEY}{job_id}:{action}" if action in ONE_SHOT_ACTIONS else None


def _delivery_keys(job_id: str) -> list[str]:
    return [*events.keys_for(job_id), *delivery.keys_for(job_id)]


def _pressed_keys(job_id: str) -> list[str]:
    return [key for action in ONE_SHOT_ACTIONS if (key := pressed_key(job_id, action)) is not None]
