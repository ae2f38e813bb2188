"""The worker process: one RQ SimpleWorker that loads the image backend once and serves one queue."""

import logging

from redis import Redis
from rq import SimpleWorker

from shopshot import logs, metrics
from shopshot.config import Settings
from shopshot.pipeline.backends import load_backend
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.jobs import CONTEXT, WorkerContext

log = logging.getLogger(__name__)


class StudioWorker(SimpleWorker):
    """Runs jobs in this process (no fork: CUDA and loaded weights survive) with the shared context."""

    def __init__(self, *args, context: WorkerContext, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.context = context

    def execute_job(self, job, queue) -> None:
        token = CONTEXT.set(self.context)
        try:
            with logs.about_job(job), metrics.job_timer(job, self.context.settings):
                super().execute_job(job, queue)
        finally:
            CONTEXT.reset(token)


def build_worker(settings: Settings, redis_url: str, name: str | None = None) -> StudioWorker:
    """Load the backend and build a worker listening to the one configured queue."""
    backend = load_backend(settings.backend, settings)
    backend.setup()
    connection = Redis.from_url(redis_url)
    # One queue per worker: RQ pops atomically (BLMOVE) only when a worker listens to one queue.
    queue = JobQueue(connection, settings.queue).queue_for(settings.backend)
    context = WorkerContext(settings=settings, backend=backend)
    return StudioWorker([queue], connection=connection, context=context, name=name)


def run_worker(settings: Settings, redis_url: str, burst: bool = False) -> None:
    """Serve jobs until stopped (or until the queue is empty, with burst)."""
    worker = build_worker(settings, redis_url)
    log.info("worker on Redis %s", redis_url)  # the password is redacted by the log formatter
    metrics.serve_worker(worker, settings)
    log.info("worker %s serving queue %r with the %s backend", worker.name, worker.queue_names()[0], settings.backend)
    worker.work(burst=burst, logging_level=settings.log_level)
