"""The feeder: a batch's jobs enter the render queue a few per seller at a time, so other sellers take turns.

Measured through a real `shopshot worker` on the studio backend: with one seller's 30-photo batch
queued, another seller's single job starts within one job of the next free worker.
"""

import asyncio
import io
import statistics
from datetime import datetime

from PIL import Image
from rq.job import Job, JobStatus

from shopshot.queue.enqueue import ACTIVE_KEY, JobQueue
from shopshot.queue.feeder import Feeder
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import open_store
from tests.conftest import until
from tests.queue.fleet import Fleet

BATCH = 30


def _photo() -> bytes:
    image = Image.new("RGB", (300, 300), (228, 228, 226))
    image.paste((40, 90, 200), (70, 70, 230, 230))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _spec(redis, settings, user_id: int, **batch) -> JobSpec:
    key = open_store(redis, settings).put(_photo())
    return JobSpec(
        chat_id=user_id,
        user_id=user_id,
        status_message_id=1,
        image_key=key,
        preset="studio",
        ratio="4:5",
        variants=1,
        seed=0,
        language="en",
        **batch,
    )


def _batch(redis, settings, user_id: int, size: int) -> dict[str, JobSpec]:
    spec = _spec(redis, settings, user_id, batch_id=f"batch-{user_id}", batch_size=size)
    return {f"{user_id}-{number}": spec.with_changes(batch_number=number) for number in range(1, size + 1)}


def _started_at(redis, job_id: str):
    job = Job.fetch_many([job_id], connection=redis)[0]  # None until the feeder has queued it
    return job and job.started_at


def _taken_at(job: Job) -> datetime:
    """When a worker took the job. Not `started_at`: RQ writes that once as it takes the job and again, a moment
    later (after the worker's feeder top-up), as the job ends."""
    result = job.latest_result()
    assert result is not None and result.execution_started_at is not None, job.id
    return result.execution_started_at


def test_the_backlog_keeps_per_seller_jobs_in_the_queue_and_feeds_in_order(redis, settings):
    jobs = JobQueue(redis, settings.queue)
    feeder = Feeder(jobs, per_seller=2)
    first, second = _batch(redis, settings, 1, 5), _batch(redis, settings, 2, 3)
    feeder.hold(first)
    feeder.hold(second)
    assert jobs.queue.get_job_ids() == ["1-1", "1-2", "2-1", "2-2"]
    assert set(first) | set(second) <= set(
        jobs.active()
    )  # held jobs count as active: the limits and the board see them
    assert feeder.top_up() == 0  # nothing taken: nothing more goes in
    for taken in ("1-1", "2-1"):  # as a worker takes them
        jobs.queue.remove(taken)
        Job.fetch(taken, connection=redis).set_status(JobStatus.STARTED)
    assert feeder.top_up() == 2
    queued = jobs.queue.get_job_ids()
    assert queued[:2] == ["1-2", "2-2"] and set(queued[2:]) == {"1-3", "2-3"}  # each seller's next, in its own order
    assert list(feeder.withdraw(1, ["1-5", "1-2"])) == ["1-5"]  # a fed job is the queue's to withdraw
    assert list(feeder.waiting_in_backlog(1)) == ["1-4"] and not redis.hexists(ACTIVE_KEY, "1-5")
    assert list(feeder.drop(2)) == [] and list(feeder.drop(1)) == ["1-4"]


async def test_another_sellers_job_starts_within_one_job_of_the_next_free_worker(
    redis, redis_url, settings, tmp_path, figures
):
    jobs = JobQueue(redis, settings.queue)
    feeder = Feeder(jobs, settings.queue.feed_per_seller)
    batch = _batch(redis, settings, 1, BATCH)
    with Fleet(redis, redis_url, tmp_path, "studio") as fleet:
        fleet.start(1)
        await fleet.ready()
        await asyncio.to_thread(feeder.hold, batch)
        await until(lambda: _started_at(redis, "1-3"), timeout_s=120, what="the batch's third job started")
        other = await asyncio.to_thread(jobs.enqueue, _spec(redis, settings, 2))
        started = await until(lambda: _started_at(redis, other), timeout_s=120, what="the other seller's job started")
    theirs = Job.fetch(other, connection=redis)
    ours = [job for job in Job.fetch_many(list(batch), connection=redis) if job is not None and job.ended_at]
    taken = {job.id: _taken_at(job) for job in ours}
    queued_at = theirs.enqueued_at
    # The next free worker: the moment the batch job running when theirs was queued ended.
    free_at = min((job.ended_at for job in ours if taken[job.id] <= queued_at < job.ended_at), default=queued_at)
    ahead = [job.id for job in ours if queued_at < taken[job.id] < started]
    job_s = statistics.median((job.ended_at - taken[job.id]).total_seconds() for job in ours)
    waited = (started - free_at).total_seconds()
    figure = f"{waited:.2f} s after the next free worker ({waited / job_s:.2f} of a {job_s:.2f} s job), {len(ahead)} batch job ahead"
    figures.set(f"fairness: another seller's job with a {BATCH}-photo batch queued, one CPU worker", figure)
    print(f"\nfairness: {figure}")
    assert len(ahead) <= settings.queue.feed_per_seller, ahead  # not the 27 the batch still had waiting
