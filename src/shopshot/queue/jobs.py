"""The RQ job functions, importable by dotted path; they run inside `StudioWorker`."""

import gc
import io
import logging
import sys
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType

from PIL import Image
from redis import Redis
from rq import get_current_job
from rq.job import Job
from rq.timeouts import JobTimeoutException

from shopshot.config import Settings
from shopshot.errors import InputError, JobFailed, JobTimedOut, OutOfMemory, ShopshotError
from shopshot.pipeline.backends import Backend
from shopshot.pipeline.intake import load_image
from shopshot.pipeline.packs import PackImage, pack, render_pack, suffix
from shopshot.pipeline.studio import RenderedImage, RenderRequest
from shopshot.queue.album import album_photo
from shopshot.queue.enqueue import record_duration
from shopshot.queue.events import EventKind, JobEvent, ResultImage, publish, published
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import BlobStore
from shopshot.storage import Blobs, open_blobs

log = logging.getLogger(__name__)


@dataclass
class WorkerContext:
    """What a worker loads once and every job uses."""

    settings: Settings
    backend: Backend
    blobs: Blobs | None = None  # where images live; opened at the first job when not given

    def store(self, redis: Redis) -> BlobStore:
        """The blob store on this job's Redis, over the one back end this worker opened."""
        if self.blobs is None:
            self.blobs = open_blobs(self.settings.storage, self.settings.data_dir)
        return BlobStore(redis, self.blobs, self.settings.queue.image_ttl_s, self.settings.storage)


# Set by StudioWorker while it works: RQ calls job functions and callbacks with their arguments only.
CONTEXT: ContextVar[WorkerContext] = ContextVar("shopshot_worker_context")


def render(spec_json: str) -> dict[str, object]:
    """Render one spec, store the images and publish a `done` (or `failed`) event."""
    context, job = CONTEXT.get(), get_current_job()
    assert job is not None  # RQ runs this as a job
    if published(job.connection, job.id):  # its worker died after publishing, before RQ saw the job end
        log.info("job %s already published; not rendered again", job.id)
        return {"published": True}
    spec = JobSpec.from_json(spec_json)
    store = context.store(job.connection)
    started = time.monotonic()
    try:
        images = _results(context, store, spec, job)
    except JobTimeoutException:  # a job that ran out its time would run as long again: no retry
        return _fail(job, spec, JobTimedOut())
    except ShopshotError as error:  # the seller's input, not a passing fault: no retry
        return _fail(job, spec, error)
    seconds = time.monotonic() - started
    record_duration(job.connection, seconds)
    _publish(job, JobEvent(EventKind.DONE, job.id, spec, images=images, seconds=seconds))
    return {"images": len(images), "seconds": seconds}


def _fail(job: Job, spec: JobSpec, error: ShopshotError) -> dict[str, object]:
    level = logging.INFO if isinstance(error, InputError) else logging.WARNING
    log.log(level, "job %s failed, not retried: %s", job.id, type(error).__name__)
    _publish(job, JobEvent(EventKind.FAILED, job.id, spec, error=error.code, error_params=error.params))
    return {"error": error.code}


def _results(context: WorkerContext, store: BlobStore, spec: JobSpec, job: Job) -> list[ResultImage]:
    image = load_image(store.get(spec.image_key), context.settings.limits)
    if spec.pack:
        return _store_pack(store, _render_pack(context, image, spec, job), spec.user_id)
    return _store_each(store, _render(context, image, spec, job), spec.user_id)


def _render(context: WorkerContext, image: Image.Image, spec: JobSpec, job: Job) -> Iterable[RenderedImage]:
    request = RenderRequest(
        image=image,
        preset=spec.preset,
        ratio=spec.ratio,
        variants=spec.variants,
        seed=spec.seed,
        task=spec.task,
        model=spec.model,
        prompt_extra=spec.prompt_extra,
        keep=spec.keep,
    )
    return context.backend.run(request, progress=lambda fraction: report_progress(job, fraction))


def _render_pack(context: WorkerContext, image: Image.Image, spec: JobSpec, job: Job) -> Iterable[PackImage]:
    """A pack's images, each checked, on the seller's backdrop where its rule leaves the background free."""
    assert spec.pack is not None  # _results renders a pack only for a spec that names one
    chosen = pack(spec.pack)
    for number, output in enumerate(
        render_pack(image, chosen, spec.seed, context.backend, preset=spec.preset), start=1
    ):
        yield output
        report_progress(job, number / len(chosen.shots))


def report_progress(job: Job, fraction: float) -> None:
    """Record progress in the job's meta, where the bot's status board reads it."""
    job.meta["progress"] = round(fraction, 3)
    job.save_meta()


def _store_each(store: BlobStore, rendered: Iterable[RenderedImage], owner: int) -> list[ResultImage]:
    """Store the images as they come, each dropped before the next is rendered (a 40-MP one is about 1 GB)."""
    images = []
    for item in rendered:
        images.append(_store_result(store, item, owner))
        del item  # a list comprehension would hold it while the next is rendered
    return images


def _store_pack(store: BlobStore, outputs: Iterable[PackImage], owner: int) -> list[ResultImage]:
    """Store each pack image as its marketplace takes it (the file its verdict measured), with a copy for the album."""
    return [
        ResultImage(
            photo_key=store.put(album_photo(output.image), owner),
            file_key=store.put(output.data, owner),
            seed=output.seed,
            width=output.image.width,
            height=output.image.height,
            suffix=suffix(output.format),
            verdict=output.verdict.to_dict(),
        )
        for output in outputs
    ]


def _store_result(store: BlobStore, item: RenderedImage, owner: int) -> ResultImage:
    return ResultImage(
        photo_key=store.put(album_photo(item.image), owner),
        file_key=store.put(full_resolution(item.image), owner),
        seed=item.seed,
        width=item.image.width,
        height=item.image.height,
    )


def full_resolution(image: Image.Image) -> bytes:
    """The PNG a seller gets as a file: every pixel kept."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=4)
    return buffer.getvalue()


def on_failure(
    job: Job, connection: Redis, exc_type: type[BaseException], exc: BaseException, traceback: TracebackType | None
) -> None:
    """RQ failure callback, also for a job whose worker died: tell the seller once the last attempt has failed."""
    log.warning("job %s failed (%s retries left): %s: %s", job.id, job.retries_left, exc_type.__name__, exc)
    if job.retries_left:
        return
    spec = JobSpec.from_json(job.args[0])
    error = OutOfMemory if out_of_memory(exc) else JobFailed
    _publish(job, JobEvent(EventKind.FAILED, job.id, spec, error=error.code))


def out_of_memory(error: BaseException | None) -> bool:
    """True for torch's OutOfMemoryError (known by name: the queue never imports torch), MPS's and the host's."""
    return isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError" or "out of memory" in str(error)


def free_memory() -> None:
    """Drop what a failed job left behind and hand torch's cached GPU memory back (a no-op where torch is not loaded)."""
    gc.collect()  # the failed job's frames may sit in reference cycles, holding their tensors
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.cuda.empty_cache()


def _publish(job: Job, event: JobEvent) -> None:
    queue = CONTEXT.get().settings.queue
    publish(job.connection, queue.events_stream, event, queue.events_kept)
