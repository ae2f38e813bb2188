"""Redis killed with SIGKILL and started again on its append-only file: queued jobs survive, everyone reconnects."""

import asyncio
import threading

from redis import Redis
from rq import Worker
from rq.job import Job, JobStatus

from shopshot.launcher import worker_process
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import newer_than, with_button
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import open_store
from shopshot.queue.worker import build_worker
from tests.conftest import BotRunner, until
from tests.faults.conftest import album_counts

USERS = (801, 802, 803)
LATE_USER = 804
DOWN_S = 3.0


def _queue_job(redis: Redis, settings, user: int, status_message_id: int) -> str:
    """What the bot's confirm step does: store the photo, queue a job."""
    image_key = open_store(redis, settings).put(sample_photo())
    spec = JobSpec(
        chat_id=user,
        user_id=user,
        status_message_id=status_message_id,
        image_key=image_key,
        preset="white",
        ratio="1:1",
        variants=2,
        seed=user,
        language="en",
    )
    return JobQueue(redis, settings.queue).enqueue(spec)


async def _album_arrives(api, user: int) -> None:
    await api.wait_for(user, with_button("rs:"), timeout=90)
    assert album_counts(await api.messages(user)) == (2, 2, 1)


async def test_queued_jobs_survive_redis_kills_and_the_bot_and_worker_reconnect(
    redis_process, stand_in, api, settings, tmp_path, figures
):
    redis = Redis.from_url(redis_process.url)
    bot = BotRunner(settings, redis_process.url, stand_in)
    bot.start()
    welcomes = {}
    for user in USERS:
        await api.send_text(user, "/start")
        welcomes[user] = (await api.wait_for(user, newer_than(0), timeout=60))[0]["message_id"]
    with worker_process(redis_process.url, tmp_path / "worker.log") as worker:
        await until(lambda: Worker.count(connection=redis), 60, what="the worker to listen")
        redis_process.kill()  # the bot and an idle worker lose every connection
        await asyncio.sleep(DOWN_S)
        redis_process.start()
        figures.add("restarts survived")
        _queue_job(redis, settings, USERS[0], welcomes[USERS[0]])
        await _album_arrives(api, USERS[0])  # the same worker and bot, reconnected by themselves
        assert worker.poll() is None
    # Queued with no worker up, so the jobs are still on the queue when Redis dies.
    job_ids = [_queue_job(redis, settings, user, welcomes[user]) for user in USERS[1:]]
    redis_process.kill()
    redis_process.start()
    figures.add("restarts survived")
    assert redis.lrange(f"rq:queue:{settings.queue.name}", 0, -1) == [job_id.encode() for job_id in job_ids]
    with worker_process(redis_process.url, tmp_path / "worker.log"):
        for user in USERS[1:]:
            await _album_arrives(api, user)
    await api.send_text(LATE_USER, "/start")  # polling and the FSM storage reconnected too
    assert "shopshot" in (await api.wait_for(LATE_USER, newer_than(0), timeout=30))[0]["text"]
    await bot.stop()
    redis.close()


def test_a_worker_that_loses_redis_while_it_starts_serves_once_it_is_back(redis_process, settings, figures):
    # RQ waits out a lost Redis only in its dequeue loop; while it registers, it quits. Ours starts again.
    # The job is queued before Redis dies, so the append-only file holds it when the worker first gets through.
    redis = Redis.from_url(redis_process.url)
    job_id = _queue_job(redis, settings, USERS[0], status_message_id=1)
    worker = build_worker(settings, redis_process.url, name="restarting")
    redis_process.kill()
    # The worker runs in this thread (RQ installs signal handlers); Redis comes back from another.
    comeback = threading.Timer(DOWN_S, redis_process.start)
    comeback.start()
    worker.work(burst=True)  # returns once it has served the queue
    comeback.join()
    figures.add("restarts survived")
    assert Job.fetch(job_id, connection=redis).get_status() == JobStatus.FINISHED
    redis.close()
