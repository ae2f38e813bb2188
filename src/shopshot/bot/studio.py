"""What the conversation asks of the rest of shopshot, as plain async calls (no Message, no Bot)."""

import asyncio
import logging
import secrets
import unicodedata
from dataclasses import dataclass, field

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from rq.job import Job, JobStatus

from shopshot import logs
from shopshot.bot.delivery import DELIVERED_KEY, FORGOTTEN_KEY, PARTS_KEY
from shopshot.bot.languages import LANGUAGE_KEY
from shopshot.bot.limits import JobLimits, Ticket
from shopshot.config import Settings
from shopshot.errors import DetailNotPlain, DetailTooLong, InputExpired, InvalidOption, TaskUnavailable
from shopshot.pipeline.intake import check_declared, load_image
from shopshot.pipeline.presets import LOOK_CYCLE
from shopshot.queue.enqueue import ACTIVE_KEY, JobQueue
from shopshot.queue.events import PUBLISHED_KEY
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import BlobStore

log = logging.getLogger(__name__)

ONCE_KEY = "shopshot:once:"  # a hash per seller: the one-off hints they have seen
JOBS_OF_KEY = "shopshot:jobs-of:"
PRESSED_KEY = "shopshot:pressed:"
ONE_SHOT_ACTIONS = ("variations", "retry")
TASKS = ("backdrop", "model", "mannequin")
DETAIL_LIMIT = 120
# Joiners hold emoji sequences and Persian or Indic words together; every other format character
# (bidi overrides, zero-width spaces) only hides or reorders text.
JOINERS = {"\u200c", "\u200d"}


@dataclass
class Studio:
    settings: Settings
    blobs: BlobStore
    jobs: JobQueue
    redis: AsyncRedis
    limits: JobLimits = field(init=False)

    def __post_init__(self) -> None:
        self.limits = JobLimits(self.redis, self.settings.limits)

    def check_upload(self, size: int | None, mime_type: str | None = None, file_name: str | None = None) -> None:
        """Reject a file by its size and declared type before it is downloaded."""
        check_declared(size, mime_type, file_name, self.settings.limits)

    async def accept_photo(self, data: bytes, owner: int) -> tuple[str, int, int]:
        """Validate an upload and store it; return its key and size. Raises InputError subclasses."""
        image = await asyncio.to_thread(load_image, data, self.settings.limits)
        key = await asyncio.to_thread(self.blobs.put, data, owner)
        return key, image.width, image.height

    async def ensure_stored(self, key: str) -> None:
        """Raise InputExpired when a stored photo's TTL has passed."""
        if not await self.redis.exists(key):
            raise InputExpired()

    async def admit(self, user_id: int, backend: str, once: str | None = None) -> Ticket | None:
        """Take a slot for one job within the seller's limits (raises LimitReached); None for a used one-shot button."""
        job_s = await asyncio.to_thread(self.jobs.typical_job_s, backend)
        ticket = await self.limits.admit(user_id, self.jobs.queue_for(backend).key, job_s, once)
        if ticket is None:
            log.warning("user %s replayed a used button (%s)", logs.user_tag(self.settings, user_id), once)
        return ticket

    async def queue(self, spec: JobSpec, ticket: Ticket) -> str:
        """Put an admitted job on the render queue; return its id.

        Callers check the photo is still stored before admitting; should it expire in the moment
        between, the worker reports InputExpired to the seller.
        """
        try:
            job_id = await asyncio.to_thread(self.jobs.enqueue, spec)
        except Exception:
            await self.limits.release(ticket)
            raise
        await self.limits.bind(ticket, job_id)
        history = JOBS_OF_KEY + str(spec.user_id)
        await self.redis.pipeline().sadd(history, job_id).expire(history, self.settings.queue.failure_ttl_s).execute()
        return job_id

    async def owned_job(self, job_id: str, user_id: int) -> JobSpec | None:
        """The spec of one of this seller's jobs; None when it is gone or someone else's (logged)."""
        spec = await asyncio.to_thread(self.jobs.spec, job_id)
        if spec is not None and spec.user_id != user_id:
            log.warning("user %s pressed a button naming another user's job %s", logs.user_tag(self.settings, user_id), job_id)
            return None
        return spec

    async def forget(self, user_id: int) -> dict[str, JobSpec]:
        """Delete a seller's images, jobs, language and hints (the limits stay); return the jobs taken off the queue, by id.

        A job running, or finished and being delivered, cannot be taken back: every job not delivered
        yet is marked forgotten, before its results go, and delivery stops at its next part and
        deletes them. The status messages of the jobs taken off the queue are the caller's to close.
        """
        job_ids = [job_id.decode() for job_id in await self.redis.smembers(JOBS_OF_KEY + str(user_id))]
        for job_id in job_ids:
            if not await self.redis.exists(DELIVERED_KEY + job_id):
                await self.redis.set(FORGOTTEN_KEY + job_id, user_id, ex=self.settings.queue.failure_ttl_s)
        dequeued = await asyncio.to_thread(_delete_jobs, self.jobs.redis, job_ids)
        await asyncio.to_thread(self.blobs.forget, user_id)
        per_job = [key for job_id in job_ids for key in (*_delivery_keys(job_id), *_pressed_keys(job_id))]
        await self.redis.delete(JOBS_OF_KEY + str(user_id), LANGUAGE_KEY + str(user_id), ONCE_KEY + str(user_id), *per_job)
        return dequeued

    async def gpu_available(self) -> bool:
        """True while a GPU worker is up, so the diffusion tasks can run."""
        return await asyncio.to_thread(self.jobs.gpu_available)

    async def check_task(self, task: str) -> str:
        """A task that can run now; raises InvalidOption or TaskUnavailable."""
        if task not in TASKS:
            raise InvalidOption(value=task)
        await self.backend_for(task)
        return task

    async def backend_for(self, task: str) -> str:
        """The backend for a task: diffusion on GPU workers when one is up, else the CPU studio for backdrops."""
        if await self.gpu_available():
            return "diffusion"
        if task == "backdrop":
            return "studio"
        raise TaskUnavailable()

    async def first_time(self, user_id: int, topic: str) -> bool:
        """True the first time a seller reaches a one-off hint."""
        return bool(await self.redis.hsetnx(ONCE_KEY + str(user_id), topic, 1))


def new_seed() -> int:
    """A fresh seed for a job, recorded with the results so they can be reproduced; a multiple of
    LOOK_CYCLE, so the job's first image is the look the gallery shows."""
    return LOOK_CYCLE * secrets.randbelow(2**31 // LOOK_CYCLE)


def variations_seed(spec: JobSpec) -> int:
    """The first seed of a job's Variations: past the seeds it sent, so the looks go on from there."""
    return spec.seed + spec.variants


def check_detail(text: str | None) -> str:
    """A seller's one-line addition, trimmed; raises DetailTooLong past the limit or over several lines, DetailNotPlain for hidden characters."""
    detail = " ".join((text or "").split())
    if len(detail) > DETAIL_LIMIT or "\n" in (text or "").strip():
        raise DetailTooLong(limit=DETAIL_LIMIT)
    if any(unicodedata.category(char) in ("Cc", "Cf") and char not in JOINERS for char in detail):
        raise DetailNotPlain()
    return detail


def pressed_key(job_id: str, action: str) -> str | None:
    """The one-shot key of a result button that queues a job; None for the buttons that may be pressed again."""
    return f"{PRESSED_KEY}{job_id}:{action}" if action in ONE_SHOT_ACTIONS else None


def _delivery_keys(job_id: str) -> list[str]:
    return [PUBLISHED_KEY + job_id, PARTS_KEY + job_id, DELIVERED_KEY + job_id]


def _pressed_keys(job_id: str) -> list[str]:
    return [pressed_key(job_id, action) for action in ONE_SHOT_ACTIONS]


def _delete_jobs(redis: Redis, job_ids: list[str]) -> dict[str, JobSpec]:
    """Delete the jobs that no worker holds (running ones their workers finish); return those whose status was still shown."""
    dequeued = {}
    for job in Job.fetch_many(job_ids, connection=redis):
        if job is None or job.get_status() == JobStatus.STARTED:
            continue
        job.delete(remove_from_queue=True)
        if redis.hdel(ACTIVE_KEY, job.id):
            dequeued[job.id] = JobSpec.from_json(job.args[0])
    return dequeued
