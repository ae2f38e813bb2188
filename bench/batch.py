"""Batch benchmark: photos per minute on one CPU worker, a batch against the same photos one by one.

Run with `.venv/bin/python bench/batch.py` (in `make bench`). An embedded Redis, the Bot API stand-in
in a process of its own, the real bot and one real `shopshot worker` (the CPU studio backend), all on
this machine. Both runs make the same images: the bundled mug photo (a real photo), the studio grey
backdrop at 4:5, one image a photo.

- Single photos: `PHOTOS` sellers each send the photo and confirm; timed from the first Confirm to
  the last seller's result buttons.
- A batch: one seller sends the same `PHOTOS` photos as one send (Telegram's 10 + 2), confirms once;
  timed from the Confirm to the batch's summary.

Each also gives the worker's own rate: from its first job's start to its last job's end (RQ's
`started_at` and `ended_at`), without the bot's delivery after the last job.
"""

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from redis import Redis
from rq.job import Job

from shopshot.bot.app import run_bot
from shopshot.bot.callbacks import ResultAction, Step
from shopshot.config import STAND_IN_TOKEN, Settings
from shopshot.embedded import embedded_redis
from shopshot.launcher import worker_process
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.client import StandInClient
from shopshot.playground.scripted import Choices, reach_summary, with_button

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service import stand_in_process

PHOTOS = 12
CHOICES = Choices(preset="studio", ratio="4:5", variants=1)


async def singles(api: StandInClient) -> float:
    """Seconds from the first of `PHOTOS` sellers' Confirm to the last one's results."""
    summaries = []
    for user in range(1, PHOTOS + 1):
        await api.send_photo(user, sample_photo())
        summaries.append(await reach_summary(api, user, CHOICES))
    started = time.perf_counter()
    for user, summary in enumerate(summaries, start=1):
        await api.press(user, summary["message_id"], data=Step(action="confirm").pack())
    await asyncio.gather(
        *(api.wait_for(user, with_button(f"{ResultAction.__prefix__}:"), timeout=600) for user in range(1, PHOTOS + 1))
    )
    return time.perf_counter() - started


def collected(redis: Redis, user: int) -> int:
    """How many photos of the send the seller's batch holds."""
    key = DefaultKeyBuilder().build(
        StorageKey(bot_id=int(STAND_IN_TOKEN.split(":")[0]), chat_id=user, user_id=user), "data"
    )
    batch = json.loads(redis.get(key) or "{}").get("batch") or {"photos": []}
    return len(batch["photos"])


async def one_batch(api: StandInClient, redis: Redis, user: int) -> float:
    """Seconds from a batch's Confirm to its summary."""
    photos = [sample_photo()] * PHOTOS
    await api.send_album(user, photos[:10])
    await api.send_album(user, photos[10:])
    while await asyncio.to_thread(collected, redis, user) < PHOTOS:  # every photo in, as a seller's thumb takes longer
        await asyncio.sleep(0.1)
    summary = await reach_summary(api, user, CHOICES)
    assert f"A batch of {PHOTOS} photos" in summary["text"], summary["text"]
    started = time.perf_counter()
    await api.press(user, summary["message_id"], data=Step(action="confirm").pack())
    await api.wait_for(user, lambda ms: any((m["text"] or "").startswith("✅ Your batch") for m in ms), timeout=600)
    return time.perf_counter() - started


def job_ids(redis: Redis) -> set[str]:
    """The render jobs RQ knows now."""
    return {key.decode().removeprefix("rq:job:") for key in redis.scan_iter("rq:job:*") if key.count(b":") == 2}


def worker_span(redis: Redis, ids: set[str]) -> float:
    """Seconds from the first of these jobs' start to the last one's end."""
    jobs = [job for job in Job.fetch_many(sorted(ids), connection=redis) if job is not None and job.ended_at]
    return (max(job.ended_at for job in jobs) - min(job.started_at for job in jobs)).total_seconds()


def rate(seconds: float) -> str:
    return f"{PHOTOS / seconds * 60:.1f}"


async def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        embedded_redis(Path(tmp) / "redis") as redis_url,
        stand_in_process() as url,
    ):
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "data")
        bot = asyncio.create_task(run_bot(settings, redis_url, url))
        try:
            with worker_process(redis_url, Path(tmp) / "worker.log"):
                async with StandInClient(url) as api:
                    redis = Redis.from_url(redis_url)
                    await asyncio.sleep(2)  # started, gallery warmed up
                    single_s = await singles(api)
                    single_ids = job_ids(redis)
                    batch_s = await one_batch(api, redis, PHOTOS + 1)
                    single_work, batch_work = (
                        worker_span(redis, single_ids),
                        worker_span(redis, job_ids(redis) - single_ids),
                    )
        finally:
            bot.cancel()
            await asyncio.gather(bot, return_exceptions=True)
    print(
        f"| photos per minute, one CPU worker ({PHOTOS} photos, studio grey 4:5, one image each) | batch | one by one | ratio |"
    )
    print("| --- | --- | --- | --- |")
    print(f"| Confirm → results delivered | {rate(batch_s)} | {rate(single_s)} | {single_s / batch_s:.2f} |")
    print(
        f"| the worker alone, first job's start → last job's end | {rate(batch_work)} | {rate(single_work)} | "
        f"{single_work / batch_work:.2f} |"
    )


if __name__ == "__main__":
    asyncio.run(main())
