"""Status edits of many jobs at once against Telegram's global limit: the calls a second Telegram sees.

Run with `.venv/bin/python bench/budget.py [--jobs 50] [--seconds 12] [--unbudgeted]`. The real bot
polls the Bot API stand-in (limited, as Telegram, to 30 calls a second) on an embedded Redis. The
jobs are marked running with their progress moving, and no worker takes them: the status board's
edits and the bot's start-up calls are all the traffic. `--unbudgeted` lifts the bot's budget and the
stand-in's limit, to show what the board would send without them. tests/bot/test_budget.py runs
the same flood at a test's size.
"""

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from redis import Redis
from rq.job import Job, JobStatus
from rq.utils import now

from shopshot.bot.app import create_bot, run_bot
from shopshot.config import BudgetSettings, Settings
from shopshot.embedded import embedded_redis
from shopshot.playground.client import StandInClient
from shopshot.playground.standin import StandIn
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.spec import JobSpec

FIRST_SELLER = 5000
TICK_S = 0.25  # how often every job's progress moves by a percent: its text is new at every refresh


@dataclass(frozen=True)
class Flood:
    edits_peak: int  # editMessageText calls accepted in the busiest second
    calls_peak: int  # calls accepted in the busiest second (getUpdates aside)
    refused: int  # calls answered 429
    edits_per_job: list[int]  # progress edits accepted, per job


def busiest_second(times: list[float]) -> int:
    """The most of these moments that fall within any one second."""
    times, most, first = sorted(times), 0, 0
    for last, moment in enumerate(times):
        while times[first] <= moment - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def flood(
    settings: Settings, redis_url: str, api: StandInClient, jobs: int, seconds: float, limit: int | None
) -> Flood:
    """Run the real bot over `jobs` running jobs for `seconds`, the stand-in limited to `limit` calls a second."""
    await api.set_rate_limit(None)  # the setup's own calls go unhindered
    redis = Redis.from_url(redis_url)
    queue = JobQueue(redis, settings.queue)
    job_ids = [queue.enqueue(spec) for spec in await _status_messages(settings, api, jobs)]
    for job_id in job_ids:
        job = Job.fetch(job_id, connection=redis)
        job.set_status(JobStatus.STARTED)
        job.started_at = now() - timedelta(seconds=1)
        job.save()
    await api.set_rate_limit(limit)
    await asyncio.sleep(1.0)  # the setup's calls leave the stand-in's last second: the bot starts with all of it
    started = time.monotonic()
    bot = asyncio.create_task(run_bot(settings, redis_url, api.base_url))
    try:
        for tick in range(int(seconds / TICK_S)):
            await asyncio.to_thread(_progress, redis, job_ids, min(0.99, 0.1 + tick / 100))
            await asyncio.sleep(TICK_S)
    finally:
        bot.cancel()
        await asyncio.gather(bot, return_exceptions=True)
        redis.close()
    calls = [call for call in await api.calls() if call["time"] >= started and call["method"].lower() != "getupdates"]
    edits = [call for call in calls if call["method"].lower() == "editmessagetext" and call["ok"]]
    return Flood(
        edits_peak=busiest_second([call["time"] for call in edits]),
        calls_peak=busiest_second([call["time"] for call in calls if call["ok"]]),
        refused=sum(call["error_code"] == 429 for call in calls),
        edits_per_job=[sum(call["chat_id"] == FIRST_SELLER + n for call in edits) for n in range(jobs)],
    )


async def _status_messages(settings: Settings, api: StandInClient, jobs: int) -> list[JobSpec]:
    """One seller per job who wrote to the bot, and the job's status message, sent before the bot starts."""
    sellers = range(FIRST_SELLER, FIRST_SELLER + jobs)
    for seller in sellers:
        await api.send_text(seller, "/start")
    bot = create_bot(settings, api.base_url)
    try:
        pending = await bot.get_updates(timeout=0)
        await bot.get_updates(offset=pending[-1].update_id + 1, timeout=0)  # the bot starts with none to answer
        statuses = [await bot.send_message(seller, "⏳") for seller in sellers]
    finally:
        await bot.session.close()
    return [
        JobSpec(
            chat_id=seller,
            user_id=seller,
            status_message_id=status.message_id,
            image_key="k",
            preset="white",
            ratio="1:1",
            variants=1,
            seed=1,
            language="en",
        )
        for seller, status in zip(sellers, statuses)
    ]


def _progress(redis: Redis, job_ids: list[str], progress: float) -> None:
    for job_id in job_ids:
        job = Job.fetch(job_id, connection=redis)
        job.meta["progress"] = progress
        job.save_meta()


async def main(jobs: int, seconds: float, unbudgeted: bool) -> None:
    with tempfile.TemporaryDirectory() as folder, embedded_redis(Path(folder) / "redis") as redis_url:
        settings = Settings(_env_file=None, data_dir=Path(folder) / "data")
        if unbudgeted:
            settings = settings.model_copy(update={"budget": BudgetSettings(calls_per_s=100_000, reserve=0)})
        stand_in = StandIn()
        async with StandInClient(await stand_in.start()) as api:
            result = await flood(settings, redis_url, api, jobs, seconds, None if unbudgeted else 30)
        await stand_in.stop()
    budget = "no budget, no limit" if unbudgeted else f"budget {settings.budget.calls_per_s:g}/s, stand-in limit 30/s"
    print(f"{jobs} jobs for {seconds:g} s ({budget}):")
    print(
        f"  busiest second: {result.edits_peak} status edits, {result.calls_peak} calls in all; {result.refused} answered 429"
    )
    print(f"  progress edits per job: {min(result.edits_per_job)} to {max(result.edits_per_job)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--unbudgeted", action="store_true")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.jobs, arguments.seconds, arguments.unbudgeted))
