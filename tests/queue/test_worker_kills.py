"""Workers SIGKILLed mid-job, round after round: each job is found, finished elsewhere and delivered once.

The real bot delivers through its stream consumer to the stand-in; each job belongs to a seller of
its own, so a seller's documents count that job's deliveries. `SHOPSHOT_KILL_ROUNDS` sets how many
jobs are killed (`make soak` runs more).
"""

import asyncio
import os
import random
import statistics
import time

from rq import Worker
from rq.job import Job

from shopshot.bot.delivery import DELIVERED_KEY
from shopshot.errors import JobFailed
from shopshot.pipeline.gallery import sample_photo
from shopshot.queue.enqueue import JobQueue, live_workers
from shopshot.queue.events import JobEvent
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import open_store
from shopshot.queue.worker import SWEEP_KEY, build_worker
from tests.conftest import until
from tests.queue.fleet import Fleet, all_finished

ROUNDS = int(os.environ.get("SHOPSHOT_KILL_ROUNDS", "20"))
AT_ONCE = 4  # kills per batch; the pool keeps one more worker than that
FIRST_USER = 7000


async def _seller(api, user: int, image_key: str) -> JobSpec:
    await api.send_text(user, "/start")
    [welcome] = await api.wait_for(user, lambda messages: messages[:1])
    return JobSpec(
        chat_id=user,
        user_id=user,
        status_message_id=welcome["message_id"],
        image_key=image_key,
        preset="white",
        ratio="1:1",
        variants=1,
        seed=user,
        language="en",
    )


async def _kill_mid_job(redis, fleet: Fleet, job_id: str) -> tuple[float, str]:
    """SIGKILL the worker running a job, well inside the seconds the job waits; return when, and its name."""
    process, name = await fleet.holder(job_id)
    await asyncio.sleep(random.uniform(0.1, 1.0))
    killed_at = fleet.kill(process)
    job = Job.fetch(job_id, connection=redis)
    assert (job.get_status(), job.worker_name) == ("started", name), "the job ended before its worker was killed"
    return killed_at, name


async def _requeued_after(redis, job_id: str, killed_at: float, retries: int) -> float:
    """Seconds from the kill until a sweep re-queued the job (RQ spends one retry on it)."""

    def requeued() -> bool:
        return int(redis.hget(f"rq:job:{job_id}", "retries_left") or retries) < retries

    await until(requeued, timeout_s=120, interval_s=0.1)
    return time.monotonic() - killed_at


async def _documents(api, users: list[int]) -> dict[int, int]:
    counts = {}
    for user in users:
        counts[user] = sum(message["kind"] == "document" for message in await api.messages(user))
    return counts


async def test_killed_workers_jobs_are_requeued_finished_elsewhere_and_delivered_once(
    bot, api, redis, redis_url, settings, tmp_path, figures
):
    jobs = JobQueue(redis, settings.queue)
    image_key = open_store(redis, settings).put(sample_photo())
    users = list(range(FIRST_USER, FIRST_USER + ROUNDS))
    job_ids, killed_names, detections = [], {}, []
    with Fleet(redis, redis_url, tmp_path / "workers", "tests.queue.backends:Slow", {"SLOW_BACKEND_S": "4"}) as fleet:
        fleet.start(AT_ONCE + 1)
        await fleet.ready()
        for first in range(0, ROUNDS, AT_ONCE):
            batch = [await _seller(api, user, image_key) for user in users[first : first + AT_ONCE]]
            ids = [await asyncio.to_thread(jobs.enqueue, spec) for spec in batch]
            kills = await asyncio.gather(*(_kill_mid_job(redis, fleet, job_id) for job_id in ids))
            killed_names |= {job_id: name for job_id, (_, name) in zip(ids, kills)}
            fleet.start(len(kills))
            detections += await asyncio.gather(
                *(_requeued_after(redis, job_id, at, settings.queue.retries) for job_id, (at, _) in zip(ids, kills))
            )
            job_ids += ids
            await fleet.ready()  # the next round's jobs are looked for once its workers listen, not while they start

        await until(lambda: all(redis.exists(DELIVERED_KEY + job_id) for job_id in job_ids), timeout_s=60 + 5 * ROUNDS)
        await until(lambda: all_finished(redis, job_ids), timeout_s=60)
        await asyncio.sleep(2)  # room for a duplicate to arrive
        counts = await _documents(api, users)
        finished_by = [Job.fetch(job_id, connection=redis).worker_name for job_id in job_ids]

    delivered = sum(1 for count in counts.values() if count)
    duplicated = sum(count - 1 for count in counts.values() if count > 1)
    figures.set("worker kills: jobs killed/delivered/duplicated", f"{ROUNDS}/{delivered}/{duplicated}")
    figures.set(
        "worker kills: seconds from kill to re-queue, median/max",
        f"{statistics.median(detections):.1f}/{max(detections):.1f}",
    )
    assert (delivered, duplicated) == (ROUNDS, 0)
    assert all(name != killed_names[job_id] for job_id, name in zip(job_ids, finished_by))
    q = settings.queue
    assert max(detections) <= q.lease_s + q.sweep_s + q.heartbeat_s + 1 + 5  # 5 s of slack for a loaded machine


async def test_a_killed_job_with_no_retries_left_is_reported_failed_by_a_sweep(redis, redis_url, settings, tmp_path):
    settings.queue.retries = 0
    spec = await asyncio.to_thread(_spec_for_sweep, redis, settings)
    jobs = JobQueue(redis, settings.queue)
    with Fleet(redis, redis_url, tmp_path / "workers", "tests.queue.backends:Slow", {"SLOW_BACKEND_S": "4"}) as fleet:
        fleet.start(2)
        await fleet.ready()
        job_id = await asyncio.to_thread(jobs.enqueue, spec)
        await _kill_mid_job(redis, fleet, job_id)
        [event] = await until(
            lambda: [JobEvent.from_fields(fields) for _, fields in redis.xrange(settings.queue.events_stream)],
            timeout_s=60,
        )
        logs = fleet.logs()
    assert (event.kind, event.job_id, event.error) == ("failed", job_id, JobFailed.code)
    assert f"job {job_id} failed (None retries left): AbandonedJobError" in logs


def _spec_for_sweep(redis, settings) -> JobSpec:
    image_key = open_store(redis, settings).put(sample_photo())
    return JobSpec(
        chat_id=1,
        user_id=1,
        status_message_id=1,
        image_key=image_key,
        preset="white",
        ratio="1:1",
        variants=1,
        seed=1,
        language="en",
    )


def test_a_job_popped_by_a_worker_that_died_before_registering_it_is_queued_again(redis, redis_url, settings):
    jobs = JobQueue(redis, settings.queue)
    job_id = jobs.enqueue(_spec_for_sweep(redis, settings))
    queue = jobs.queue_for("studio")
    # What BLMOVE leaves when the popping worker dies before it registers the job as started.
    redis.lmove(queue.key, queue.intermediate_queue_key, "LEFT", "RIGHT")
    worker = build_worker(settings, redis_url, name="sweeper")
    worker.sweep()  # first sighting: the job may still be on its way to the started registry
    assert queue.get_job_ids() == []
    # A minute later, RQ's rule for a job left in the intermediate list.
    redis.set(queue.intermediate_queue.get_first_seen_key(job_id), time.time() - 61)
    redis.delete(SWEEP_KEY + queue.name)
    worker.sweep()
    assert queue.get_job_ids() == [job_id]
    assert redis.lrange(queue.intermediate_queue_key, 0, -1) == []


async def test_a_killed_gpu_worker_stops_taking_diffusion_jobs_within_its_lease(
    redis, redis_url, settings, tmp_path, figures
):
    jobs = JobQueue(redis, settings.queue)
    with Fleet(redis, redis_url, tmp_path, "tests.queue.backends:EveryTask") as fleet:
        fleet.start()
        await fleet.ready()
        assert jobs.gpu_available() and live_workers(redis) == 1
        killed_at = fleet.kill(fleet.alive[0])
        await until(lambda: not jobs.gpu_available(), timeout_s=settings.queue.lease_s + 5)
    gone_s = time.monotonic() - killed_at
    figures.set("GPU worker killed: seconds until the bot stops offering diffusion", round(gone_s, 1))
    assert gone_s <= settings.queue.lease_s + 1
    # RQ alone would still count it: its key outlives it by `worker_ttl + 60` s, and no sweeper of the GPU queue is left.
    assert Worker.count(connection=redis, queue=jobs.gpu_queue) == 1
