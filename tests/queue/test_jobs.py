"""The RQ job and worker on a real Redis: events, retries, progress and determinism."""

import gc
import io
import weakref

import pytest
from PIL import Image

from shopshot.config import Settings
from shopshot.errors import InputExpired, InvalidOption, JobFailed, NoProductFound
from shopshot.pipeline.backends import load_backend
from shopshot.pipeline.gallery import sample_photo
from shopshot.pipeline.studio import StudioBackend
from shopshot.queue.enqueue import ACTIVE_KEY, JobQueue
from shopshot.queue.events import JobEvent
from shopshot.queue.jobs import WorkerContext, out_of_memory
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import BlobStore, open_store
from shopshot.queue.worker import StudioWorker
from tests.queue.backends import Slow


class FlakyBackend:
    """Raises an unexpected error for the first `failures` runs, then renders with the studio backend."""

    name = "flaky"
    typical_job_s = 1.0

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def setup(self) -> None:
        pass

    def run(self, request, progress=None):
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return StudioBackend().run(request, progress)


class Counting:
    """The studio's variants, noting as each is made how many earlier ones the worker still holds."""

    name = "counting"
    typical_job_s = 1.0

    def __init__(self) -> None:
        self.held: list[int] = []

    def setup(self) -> None:
        pass

    def run(self, request, progress=None):
        made = []
        for item in StudioBackend().run(request, progress):
            gc.collect()
            self.held.append(sum(image() is not None for image in made))
            made.append(weakref.ref(item.image))
            yield item
            del item


def _spec(blobs: BlobStore, data: bytes, **changes) -> JobSpec:
    spec = JobSpec(
        chat_id=1,
        user_id=1,
        status_message_id=2,
        image_key=blobs.put(data),
        preset="white",
        ratio="1:1",
        variants=2,
        seed=7,
        language="en",
    )
    return spec.with_changes(**changes)


def _work(redis, settings: Settings, backend) -> None:
    jobs = JobQueue(redis, settings.queue)
    worker = StudioWorker([jobs.queue], connection=redis, context=WorkerContext(settings=settings, backend=backend))
    worker.work(burst=True)


def _events(redis, settings: Settings) -> list[JobEvent]:
    return [JobEvent.from_fields(fields) for _, fields in redis.xrange(settings.queue.events_stream)]


@pytest.fixture
def blobs(redis, settings):
    return open_store(redis, settings)


def test_a_job_publishes_its_images_and_progress(redis, settings, blobs):
    jobs = JobQueue(redis, settings.queue)
    job_id = jobs.enqueue(_spec(blobs, sample_photo()))
    assert jobs.state(job_id).status == "queued" and jobs.state(job_id).position == 1
    _work(redis, settings, StudioBackend())
    [event] = _events(redis, settings)
    assert event.kind == "done" and event.job_id == job_id and [i.seed for i in event.images] == [7, 8]
    png = Image.open(io.BytesIO(blobs.get(event.images[0].file_key)))
    assert (
        png.format == "PNG" and png.size == (event.images[0].width, event.images[0].height) and png.width == png.height
    )
    assert jobs.state(job_id).progress == 1.0
    assert redis.hexists(ACTIVE_KEY, job_id)  # until the bot delivers it


def test_each_variant_is_stored_and_dropped_before_the_next_is_made(redis, settings, blobs):
    # At 40 MP a variant is about 1 GB of canvas and image: four held together took a worker to 4.9 GB.
    JobQueue(redis, settings.queue).enqueue(_spec(blobs, sample_photo(), variants=4))
    backend = Counting()
    _work(redis, settings, backend)
    [event] = _events(redis, settings)
    assert event.kind == "done" and len(event.images) == 4 and backend.held == [0, 0, 0, 0]


def test_the_same_spec_gives_the_same_files(redis, settings, blobs):
    jobs = JobQueue(redis, settings.queue)
    # Pure white has nothing to vary; the sweep's tone and light follow the seed.
    jobs.enqueue(_spec(blobs, sample_photo(), preset="studio"))
    jobs.enqueue(_spec(blobs, sample_photo(), preset="studio"))
    jobs.enqueue(_spec(blobs, sample_photo(), preset="studio", seed=99))
    _work(redis, settings, StudioBackend())
    first, second, other = _events(redis, settings)
    files = [[blobs.get(image.file_key) for image in event.images] for event in (first, second, other)]
    assert files[0] == files[1] and files[0][0] != files[2][0]


def test_a_passing_fault_is_retried_and_delivered_once(redis, settings, blobs):
    backend = FlakyBackend(failures=1)
    JobQueue(redis, settings.queue).enqueue(_spec(blobs, sample_photo(), variants=1))
    _work(redis, settings, backend)
    assert backend.calls == 2
    assert [event.kind for event in _events(redis, settings)] == ["done"]


def test_a_job_that_keeps_failing_is_reported_once_after_its_retries(redis, settings, blobs):
    backend = FlakyBackend(failures=10)
    JobQueue(redis, settings.queue).enqueue(_spec(blobs, sample_photo(), variants=1))
    _work(redis, settings, backend)
    assert backend.calls == settings.queue.retries + 1
    [event] = _events(redis, settings)
    assert event.kind == "failed" and event.error == JobFailed.code


class OnceOutOfMemory(FlakyBackend):
    """Runs out of GPU memory once, then renders; notes each run and each release of torch's cache."""

    def __init__(self, events: list[str]) -> None:
        super().__init__(failures=0)
        self.events = events

    def run(self, request, progress=None):
        import torch  # only to raise exactly what torch raises; the queue itself never imports it

        self.events.append("run")
        if self.events.count("run") == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return super().run(request, progress)


def test_an_out_of_memory_job_frees_the_cached_memory_before_its_retry(redis, settings, blobs, monkeypatch):
    import torch

    events = []
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: events.append("empty_cache"))
    JobQueue(redis, settings.queue).enqueue(_spec(blobs, sample_photo(), variants=1))
    _work(redis, settings, OnceOutOfMemory(events))
    assert events == ["run", "empty_cache", "run"]
    assert [event.kind for event in _events(redis, settings)] == ["done"]


def test_bad_input_fails_at_once_without_retries(redis, settings, blobs):
    blank = io.BytesIO()
    Image.new("RGB", (600, 600), (128, 128, 128)).save(blank, "PNG")
    backend = FlakyBackend(failures=0)
    JobQueue(redis, settings.queue).enqueue(_spec(blobs, blank.getvalue()))
    _work(redis, settings, backend)
    [event] = _events(redis, settings)
    assert backend.calls == 1 and event.kind == "failed" and event.error == NoProductFound.code


def test_an_expired_photo_is_reported(redis, settings, blobs):
    spec = _spec(blobs, sample_photo())
    redis.delete(spec.image_key)
    JobQueue(redis, settings.queue).enqueue(spec)
    _work(redis, settings, StudioBackend())
    [event] = _events(redis, settings)
    assert event.error == InputExpired.code


def test_gpu_jobs_go_to_the_gpu_queue_which_is_offered_only_while_a_gpu_worker_lives(redis, settings, blobs):
    jobs = JobQueue(redis, settings.queue)
    jobs.enqueue(_spec(blobs, sample_photo(), backend="diffusion", task="model", model="m1"))
    assert (jobs.gpu_queue.count, jobs.queue.count) == (1, 0)
    assert not jobs.gpu_available()
    worker = StudioWorker(
        [jobs.gpu_queue], connection=redis, context=WorkerContext(settings=settings, backend=StudioBackend())
    )
    worker.register_birth()
    assert jobs.gpu_available()
    worker.register_death()
    assert not jobs.gpu_available()


def test_out_of_memory_is_told_from_other_failures():
    import torch  # only to raise exactly what torch raises; the queue itself never imports it

    assert out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert out_of_memory(MemoryError()) and out_of_memory(
        RuntimeError("MPS backend out of memory (MPS allocated: 9 GB)")
    )
    assert not out_of_memory(RuntimeError("CUDA error: an illegal memory access was encountered"))


def test_an_operators_backend_is_loaded_by_class_and_serves_the_queue_its_tasks_fit(redis, settings):
    jobs = JobQueue(redis, settings.queue)
    slow = load_backend("tests.queue.backends:Slow", settings)
    assert isinstance(slow, Slow) and jobs.queue_serving(slow.tasks) is jobs.queue
    assert jobs.queue_serving(frozenset({"backdrop", "model", "mannequin"})) is jobs.gpu_queue
    with pytest.raises(InvalidOption):
        load_backend("tests.queue.backends:NoSuchBackend", settings)
