"""The worker process: one RQ SimpleWorker that loads the image backend once and serves one queue.

A job whose worker dies (SIGKILL, a lost machine) is found fast. RQ's SimpleWorker puts a running job
in the started registry for `job_timeout + 60` s and cleans registries every 10 minutes; here the
job holds a short lease (`lease_s`) that an upkeep thread renews every `heartbeat_s` while the job
runs, and every worker offers to sweep the started registry every `heartbeat_s`, at most once per
`sweep_s` across the fleet. A lapsed lease is retried by RQ (to the front of the queue) while the job
has retries left, else failed, and the seller told. Bound: `lease_s + sweep_s + heartbeat_s` + 1 s.
"""

import contextlib
import logging
import threading
import time
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker, worker_registration
from rq.executions import Execution
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.timeouts import TimerDeathPenalty
from rq.utils import now

from shopshot import health, logs, metrics
from shopshot.config import Settings
from shopshot.pipeline.backends import load_backend, neural_matte
from shopshot.queue.enqueue import RENDER, JobQueue, Matte, announce_alive, announce_gone, state_typical_job_s
from shopshot.queue.feeder import Feeder
from shopshot.queue.jobs import CONTEXT, WorkerContext, free_memory

log = logging.getLogger(__name__)
SWEEP_KEY = "shopshot:sweep:"
RESTART_S = 2.0


class StudioWorker(SimpleWorker):
    """Runs jobs in this process (no fork: CUDA and loaded weights survive) with the shared context."""

    def __init__(self, *args: Any, context: WorkerContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = context
        self.settings = context.settings.queue
        self.running: tuple[Job, Execution] | None = None
        self.feeder = Feeder(JobQueue(self.connection, self.settings), self.settings.feed_per_seller)

    def work(self, *args: Any, **kwargs: Any) -> bool:
        # RQ calls job functions and failure callbacks (a swept job's too) with their arguments only.
        token = CONTEXT.set(self.context)
        stop = threading.Event()
        upkeep = threading.Thread(target=self._upkeep, args=(stop,), name="shopshot-upkeep", daemon=True)
        upkeep.start()
        try:
            return self._work_through_lost_redis(*args, **kwargs)
        finally:
            stop.set()
            upkeep.join()
            CONTEXT.reset(token)

    def register_birth(self, *args: Any, **kwargs: Any) -> None:
        super().register_birth(*args, **kwargs)  # type: ignore[no-untyped-call]  # RQ's, untyped
        self.beat()
        for queue in self.queues:
            state_typical_job_s(self.connection, queue, self.context.backend.typical_job_s)

    def register_death(self, *args: Any, **kwargs: Any) -> None:
        super().register_death(*args, **kwargs)  # type: ignore[no-untyped-call]  # RQ's, untyped
        announce_gone(self.connection, self.name)

    def beat(self) -> None:
        """Say this worker is alive for one more lease, and which matte it runs (see enqueue.live_workers)."""
        matte: Matte = "neural" if neural_matte(self.context.backend) is not None else "classical"
        announce_alive(self.connection, self.name, self.settings.lease_s, matte)

    def _work_through_lost_redis(self, *args: Any, **kwargs: Any) -> bool:
        # RQ waits out a lost Redis in its dequeue loop, but not while it starts (registering,
        # subscribing) or between jobs' bookkeeping: there it quits. Start again once Redis is back; a
        # job that was running is re-queued when its lease lapses.
        while True:
            try:
                return super().work(*args, **kwargs)
            except RedisConnectionError as error:
                log.warning("worker %s lost Redis (%s); starting again in %.0f s", self.name, error, RESTART_S)
                time.sleep(RESTART_S)
                self._clear_registration()

    def _clear_registration(self) -> None:
        # RQ refuses to register a worker whose key it still holds without a death date.
        with contextlib.suppress(RedisError):
            self.unsubscribe()  # type: ignore[no-untyped-call]  # RQ's, untyped
        with contextlib.suppress(RedisError):
            self.connection.delete(self.key)

    def execute_job(self, job: Job, queue: Queue) -> None:
        if job.func_name != RENDER:  # an intake analysis (queue.analysis): no seller's render to name or time
            super().execute_job(job, queue)
            return
        with logs.about_job(job), metrics.job_timer(job, self.context.settings):
            super().execute_job(job, queue)

    def prepare_job_execution(self, job: Job, *args: Any, **kwargs: Any) -> None:
        super().prepare_job_execution(job, *args, **kwargs)
        if job.func_name == RENDER:  # started now, so no longer waiting: its seller's next batch job may go in
            try:
                self.feeder.top_up()
            except RedisError as error:  # the bot tops up too, within a second: the job itself goes on
                log.warning("worker %s did not feed the next batch job: %s", self.name, error)

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        self.running = (job, execution)
        try:
            done = super().perform_job(job, queue, execution)
        finally:
            self.running = None
        if not done:  # the failure is handled and its traceback gone: free what it held before a retry runs here
            free_memory()
        return done

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        """The running job's lease on the started registry: short, and renewed by the upkeep thread."""
        return self.settings.lease_s

    def clean_registries(self) -> None:
        """RQ's occasional full cleaning, on a sweep's turn: two cleanings at once would re-queue a dead job twice."""
        if self._sweep_turn():
            super().clean_registries()  # type: ignore[no-untyped-call]  # RQ's, untyped

    def sweep(self) -> None:
        """Re-queue (or fail) the jobs of this worker's queues whose lease lapsed: their worker died."""
        if not self._sweep_turn():
            return
        for queue in self.queues:
            # A timer, not SIGALRM, bounds the failure callback: signals reach only the main thread.
            registry = StartedJobRegistry(queue.name, connection=self.connection, death_penalty_class=TimerDeathPenalty)
            registry.cleanup()
            # A job popped by a worker that died before registering it sits in the intermediate list;
            # RQ re-queues it on the second sighting a minute apart (normally only every 10 minutes).
            queue.intermediate_queue.cleanup(self, queue)
            # Dead workers leave RQ's registry once their keys expire (normally only every 10 minutes).
            worker_registration.clean_worker_registry(queue)

    def renew_lease(self) -> None:
        """Extend the running job's lease, unless the job is past its time limit and stuck where RQ cannot stop it."""
        running = self.running
        if running is None:
            return
        job, execution = running
        working_s = (now() - job.started_at).total_seconds() if job.started_at else 0.0
        if job.timeout and working_s > job.timeout + self.settings.lease_s:
            return  # let the lease lapse: another worker takes the job
        self.maintain_heartbeats(job, execution)

    def _sweep_turn(self) -> bool:
        # Never released: the key's expiry both spaces sweeps and frees the turn of a worker killed mid-sweep.
        key = SWEEP_KEY + ",".join(self.queue_names())
        return bool(self.connection.set(key, self.name, nx=True, ex=self.settings.sweep_s))

    def _upkeep(self, stop: threading.Event) -> None:
        CONTEXT.set(self.context)  # a thread starts with an empty context
        while not stop.wait(self.settings.heartbeat_s):
            try:
                self.beat()
                self.renew_lease()
                self.sweep()
            except RedisError as error:  # Redis restarting: the next beat tries again
                log.warning("worker %s upkeep skipped: %s", self.name, error)
            except Exception:  # a dead upkeep thread would let every lease lapse while jobs still run
                log.exception("worker %s upkeep failed; trying again", self.name)


def build_worker(settings: Settings, redis_url: str, name: str | None = None) -> StudioWorker:
    """Load the backend and build a worker listening to the one queue whose jobs the backend can do."""
    backend = load_backend(settings.backend, settings)
    backend.setup()
    connection = Redis.from_url(redis_url)
    # One queue per worker: RQ pops atomically (BLMOVE) only when a worker listens to one queue.
    queue = JobQueue(connection, settings.queue).queue_serving(backend.tasks)
    context = WorkerContext(settings=settings, backend=backend)
    return StudioWorker([queue], connection=connection, context=context, name=name)


def run_worker(settings: Settings, redis_url: str, burst: bool = False) -> None:
    """Serve jobs until stopped (or until the queue is empty, with burst)."""
    worker = build_worker(settings, redis_url)
    log.info("worker on Redis %s", redis_url)  # the password is redacted by the log formatter
    health.serve_worker(worker, settings)
    log.info("worker %s serving queue %r with the %s backend", worker.name, worker.queue_names()[0], settings.backend)
    worker.work(burst=burst, logging_level=settings.log_level)
