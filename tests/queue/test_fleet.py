"""Three worker processes on one Redis share a queue of fast jobs: each done once, the load spread, none
lost when a worker is killed mid-run. `SHOPSHOT_FLEET_JOBS` sets how many (`make soak` runs more)."""

import asyncio
import io
import os
from collections import Counter

from PIL import Image

from shopshot.queue.enqueue import JobQueue
from shopshot.queue.events import JobEvent
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import open_store
from tests.conftest import until
from tests.queue.backends import RUNS_KEY
from tests.queue.fleet import Fleet, all_finished

JOBS = int(os.environ.get("SHOPSHOT_FLEET_JOBS", "200"))
WORKERS = 3


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (90, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def _done(redis, stream: str) -> Counter:
    """How many `done` events each job has published."""
    return Counter(
        event.job_id
        for event in (JobEvent.from_fields(fields) for _, fields in redis.xrange(stream))
        if event.kind == "done"
    )


async def test_three_workers_do_every_job_once_spread_out_and_lose_none_to_a_kill(
    redis, redis_url, settings, tmp_path, figures
):
    jobs, stream = JobQueue(redis, settings.queue), settings.queue.events_stream
    spec = JobSpec(
        chat_id=1,
        user_id=1,
        status_message_id=1,
        image_key=open_store(redis, settings).put(_photo()),
        preset="white",
        ratio="1:1",
        variants=1,
        seed=0,
        language="en",
    )
    with Fleet(redis, redis_url, tmp_path, "tests.queue.backends:Fast") as fleet:
        fleet.start(WORKERS)
        await fleet.ready()
        ids = await asyncio.to_thread(lambda: [jobs.enqueue(spec.with_changes(seed=n)) for n in range(JOBS)])
        await until(lambda: len(_done(redis, stream)) >= JOBS // 3, timeout_s=120)
        fleet.kill(await fleet.busy(jobs.queue))
        await until(lambda: set(_done(redis, stream)) >= set(ids), timeout_s=120 + JOBS / 5)
        await until(lambda: all_finished(redis, ids), timeout_s=60)  # the killed job too, once swept and run again

    done = _done(redis, stream)
    runs = sorted((int(count) for count in redis.hgetall(RUNS_KEY).values()), reverse=True)
    twice = sum(count > 1 for count in done.values())
    figures.set(
        f"fleet: jobs done/expected/done twice, {WORKERS} workers, one killed mid-job", f"{len(done)}/{JOBS}/{twice}"
    )
    figures.set(f"fleet: jobs run per worker ({JOBS} jobs)", "/".join(map(str, runs)))
    assert set(done) == set(ids) and twice == 0
    assert len(runs) == WORKERS and min(runs) >= JOBS // 20
