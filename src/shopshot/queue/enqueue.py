"""Putting render jobs on the queue and reading their state (synchronous: call via to_thread)."""

import statistics
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum
from typing import Literal, cast

from redis import Redis
from redis.commands.core import HashCommands
from redis.typing import ResponseT
from rq import Queue, Retry, Worker
from rq.callbacks import Callback
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.utils import now

from shopshot import metrics
from shopshot.config import QueueSettings
from shopshot.pipeline.tasks import Task
from shopshot.queue.spec import JobSpec

# redis-py types each command once for its sync and asyncio clients (`Awaitable[T] | T`), and as text where a
# client without decode_responses, as every one here, answers bytes: the casts name what the sync client returns.

ACTIVE_KEY = "shopshot:active"
# Set by each worker on every beat with a `lease_s` expiry: it lapses with the worker, wherever its clock says.
# Its value is the product matte the worker runs (see `announce_alive`).
ALIVE_KEY = "shopshot:alive:"
DURATIONS_KEY = "shopshot:durations"
# Queue name -> what its backend says one job takes, stated by each worker as it starts: the ETAs
# until jobs have run. With nothing stated (no worker ever started here), UNSTATED_JOB_S.
STATED_KEY = "shopshot:stated_job_s"
UNSTATED_JOB_S = 5.0
# By dotted path, so that the bot never imports the image pipeline.
RENDER = "shopshot.queue.jobs.render"
ON_FAILURE = "shopshot.queue.jobs.on_failure"
# What the bot may send to the GPU queue while a GPU worker is up.
GPU_TASKS = frozenset(Task)
# The product matte a worker runs: the neural one when its weights are loaded, else the classical cut-out.
Matte = Literal["neural", "classical"]


class Status(StrEnum):
    """Where a job stands: RQ's statuses (`rq.job.JobStatus`, the same values), and GONE once RQ keeps no record of it."""

    CREATED = "created"
    QUEUED = "queued"
    FINISHED = "finished"
    FAILED = "failed"
    STARTED = "started"
    DEFERRED = "deferred"
    SCHEDULED = "scheduled"
    STOPPED = "stopped"
    CANCELED = "canceled"
    RATE_LIMITED = "rate_limited"
    READY_TO_ENQUEUE = "ready_to_enqueue"
    GONE = "gone"  # also a batch job the feeder holds back, not queued yet


@dataclass(frozen=True)
class JobState:
    status: Status
    position: int | None  # 1-based place in the queue while queued
    progress: float  # 0..1 while started
    elapsed_s: float


# The active jobs and the recent durations are this module's keys, used elsewhere only through these.
# The active jobs' operations take any client, so the bot's asyncio client, the feeder's and a
# transaction's pipeline share them: with redis.asyncio each returns what to await.


def mark_active(redis: HashCommands, job_id: str, spec_json: str) -> ResponseT:
    """Count a job as active (queued, held or running) until its result is taken for delivery."""
    return redis.hset(ACTIVE_KEY, job_id, spec_json)


def retire(redis: HashCommands, *job_ids: str) -> ResponseT:
    """The jobs are not active any more; the reply counts those that were."""
    return redis.hdel(ACTIVE_KEY, *job_ids)


def active_specs_in(redis: HashCommands, job_ids: list[str]) -> ResponseT:
    """The active specs (JSON) of these jobs, None for each one not active; also inside another's WATCH."""
    return redis.hmget(ACTIVE_KEY, job_ids)


def record_duration(redis: Redis, seconds: float) -> None:
    """Keep a finished job's duration among the last 50, for ETAs and /stats."""
    redis.lpush(DURATIONS_KEY, f"{seconds:.3f}")
    redis.ltrim(DURATIONS_KEY, 0, 49)


def recent_durations(redis: Redis) -> list[float]:
    """The durations of the last jobs, newest first."""
    return [float(value) for value in cast(list[bytes], redis.lrange(DURATIONS_KEY, 0, -1))]


class JobQueue:
    """The render queue as the bot sees it."""

    def __init__(self, redis: Redis, settings: QueueSettings) -> None:
        self.redis = redis
        self.settings = settings
        self.queue = Queue(settings.name, connection=redis)
        self.gpu_queue = Queue(settings.gpu_name, connection=redis)

    def queue_for(self, backend: str) -> Queue:
        """The queue whose workers run this backend."""
        return self.gpu_queue if backend == "diffusion" else self.queue

    def queue_serving(self, tasks: frozenset[str]) -> Queue:
        """The queue for a worker whose backend does `tasks`: only a backend that does every GPU task takes GPU jobs."""
        return self.gpu_queue if tasks >= GPU_TASKS else self.queue

    def gpu_available(self) -> bool:
        """True while at least one GPU worker is alive."""
        return self.live_workers("diffusion") > 0

    def live_workers(self, backend: str) -> int:
        """How many workers serving this backend's queue are alive."""
        return live_workers(self.redis, self.queue_for(backend))

    def neural_queue(self) -> Queue | None:
        """The queue a live worker running the neural matte serves (the studio's first, then the GPU's); None when none does."""
        return next(
            (queue for queue in (self.queue, self.gpu_queue) if live_workers(self.redis, queue, "neural")), None
        )

    def enqueue(self, spec: JobSpec, job_id: str | None = None) -> str:
        """Queue a render job for a spec (under `job_id`, else a new id) and remember it as active; return the job id."""
        job = self.queue_for(spec.backend).enqueue(
            RENDER,
            spec.to_json(),
            job_id=job_id,
            job_timeout=self.settings.job_timeout_s,
            # A retried job (its worker died, or a passing fault) goes to the front: its seller already waited once.
            retry=Retry(max=self.settings.retries, enqueue_at_front=True) if self.settings.retries else None,
            failure_ttl=self.settings.failure_ttl_s,
            result_ttl=self.settings.result_ttl_s,
            on_failure=Callback(ON_FAILURE),
        )
        mark_active(self.redis, job.id, spec.to_json())
        metrics.JOBS_QUEUED.labels(spec.task).inc()
        return job.id

    def withdraw(self, job_id: str) -> JobSpec | None:
        """Take a job off its queue and delete it, unless a worker took it first; return its spec, None when not waiting."""
        job = self._fetch(job_id)
        if job is None:
            return None
        spec = JobSpec.from_json(job.args[0])
        # LREM and a worker's pop are each atomic: a job this removes is one no worker will run.
        if not self.queue_for(spec.backend).remove(job_id):
            return None
        job.delete()
        retire(self.redis, job_id)
        return spec

    def delete_jobs(self, job_ids: list[str]) -> dict[str, JobSpec]:
        """Delete the jobs that no worker holds (running ones their workers finish); return those whose status was still shown."""
        dequeued = {}
        for job in Job.fetch_many(job_ids, connection=self.redis):
            if job is None or job.get_status() == JobStatus.STARTED:
                continue
            job.delete(remove_from_queue=True)
            if retire(self.redis, job.id):
                dequeued[job.id] = JobSpec.from_json(job.args[0])
        return dequeued

    def active(self) -> dict[str, JobSpec]:
        """Jobs queued or running whose results have not been delivered yet."""
        active = cast(dict[bytes, bytes], self.redis.hgetall(ACTIVE_KEY))
        return {key.decode(): JobSpec.from_json(value) for key, value in active.items()}

    def is_active(self, job_id: str) -> bool:
        """True until the job's result or failure has been taken for delivery."""
        return bool(self.redis.hexists(ACTIVE_KEY, job_id))

    def _fetch(self, job_id: str) -> Job | None:
        try:
            return Job.fetch(job_id, connection=self.redis)
        except NoSuchJobError:
            return None

    def waiting_or_just_ended(self, job_id: str, grace_s: float, at: float) -> bool:
        """Whether RQ holds the job queued, running, deferred or scheduled, or ended less than `grace_s` before `at` (epoch s)."""
        job = self._fetch(job_id)
        if job is None:
            return False
        if job.get_status() in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
            return True
        return job.ended_at is not None and job.ended_at.replace(tzinfo=UTC).timestamp() > at - grace_s

    def spec(self, job_id: str) -> JobSpec | None:
        """The spec a job was queued with, while RQ still keeps it."""
        job = self._fetch(job_id)
        return None if job is None else JobSpec.from_json(job.args[0])

    def state(self, job_id: str) -> JobState:
        """Where a job stands now."""
        job = self._fetch(job_id)
        if job is None:
            return JobState(Status.GONE, None, 0.0, 0.0)
        status = job.get_status(refresh=False)
        position = job.get_position() if status == JobStatus.QUEUED else None
        elapsed = (job.ended_at or now()) - job.started_at if job.started_at else None
        return JobState(
            status=Status(status.value) if status else Status.GONE,
            position=None if position is None else position + 1,
            progress=float(job.meta.get("progress", 0.0)),
            elapsed_s=elapsed.total_seconds() if elapsed else 0.0,
        )

    def typical_job_s(self, backend: str) -> float:
        """Median duration of recent jobs, for queue ETAs; before any has run, what the backend's workers state."""
        recent = recent_durations(self.redis)
        if recent:
            return statistics.median(recent)
        stated = cast(bytes | None, self.redis.hget(STATED_KEY, self.queue_for(backend).name))
        return UNSTATED_JOB_S if stated is None else float(stated)


def state_typical_job_s(redis: Redis, queue: Queue, seconds: float) -> None:
    """Record what a starting worker's backend says one job of its queue takes (see JobQueue.typical_job_s)."""
    redis.hset(STATED_KEY, queue.name, seconds)  # type: ignore[arg-type]  # redis-py types values as str; it sends a float's text


def announce_alive(redis: Redis, name: str, lease_s: int, matte: Matte) -> None:
    """Say a worker is alive for one more lease, and which product matte it runs (see `live_workers`)."""
    redis.set(ALIVE_KEY + name, matte, ex=lease_s)


def announce_gone(redis: Redis, name: str) -> None:
    """Say a stopping worker is gone, without waiting for its lease to lapse."""
    redis.delete(ALIVE_KEY + name)


def live_workers(redis: Redis, queue: Queue | None = None, matte: Matte | None = None) -> int:
    """Workers (of one queue, or all; running `matte`, or any) that beat within their lease.

    RQ keeps a worker killed with SIGKILL registered until its key expires, `worker_ttl + 60` s (8
    minutes by default) later: counted that way, a dead GPU fleet would still take diffusion jobs.
    """
    names = [key.removeprefix(Worker.redis_worker_namespace_prefix) for key in Worker.all_keys(redis, queue)]
    with redis.pipeline(transaction=False) as pipeline:
        for name in names:
            pipeline.get(ALIVE_KEY + name)
        announced = pipeline.execute()
    return sum(value is not None and (matte is None or value.decode() == matte) for value in announced)
