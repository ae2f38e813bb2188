"""What the conversation asks of the rest of shopshot, as plain async calls (no Message, no Bot)."""

import asyncio
import secrets
from dataclasses import dataclass

from redis.asyncio import Redis as AsyncRedis

from shopshot.config import Settings
from shopshot.errors import DetailTooLong, InputExpired, InvalidOption, TaskUnavailable
from shopshot.pipeline.intake import check_declared, load_image
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import BlobStore

ONCE_KEY = "shopshot:once:"
TASKS = ("backdrop", "model", "mannequin")
DETAIL_LIMIT = 120


@dataclass
class Studio:
    settings: Settings
    blobs: BlobStore
    jobs: JobQueue
    redis: AsyncRedis

    def check_upload(self, size: int | None, mime_type: str | None = None, file_name: str | None = None) -> None:
        """Reject a file by its size and declared type before it is downloaded."""
        check_declared(size, mime_type, file_name, self.settings.limits)

    async def accept_photo(self, data: bytes) -> tuple[str, int, int]:
        """Validate an upload and store it; return its key and size. Raises InputError subclasses."""
        image = await asyncio.to_thread(load_image, data, self.settings.limits)
        key = await asyncio.to_thread(self.blobs.put, data)
        return key, image.width, image.height

    async def ensure_stored(self, key: str) -> None:
        """Raise InputExpired when a stored photo's TTL has passed."""
        if not await self.redis.exists(key):
            raise InputExpired()

    async def queue(self, spec: JobSpec) -> str:
        """Put a job on the render queue; return its id."""
        await self.ensure_stored(spec.image_key)
        return await asyncio.to_thread(self.jobs.enqueue, spec)

    async def job_spec(self, job_id: str, user_id: int) -> JobSpec:
        """The spec of one of this seller's jobs; someone else's job reads as expired."""
        spec = await asyncio.to_thread(self.jobs.spec, job_id)
        if spec is None or spec.user_id != user_id:
            raise InputExpired()
        return spec

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
        return bool(await self.redis.set(f"{ONCE_KEY}{topic}:{user_id}", 1, nx=True))


def new_seed() -> int:
    """A fresh seed for a job; recorded with the results so they can be reproduced."""
    return secrets.randbelow(2**31)


def check_detail(text: str | None) -> str:
    """A seller's one-line addition, trimmed; raises DetailTooLong past the limit or over several lines."""
    detail = " ".join((text or "").split())
    if len(detail) > DETAIL_LIMIT or "\n" in (text or "").strip():
        raise DetailTooLong(limit=DETAIL_LIMIT)
    return detail
