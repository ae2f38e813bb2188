"""Service benchmark: the bot's photo intake rate beside a bare aiogram bot, and queue/delivery latency.

Run with `make bench` (or `.venv/bin/python bench/service.py`). Everything runs on this machine:
an embedded Redis, the Bot API stand-in, the real bot and one real worker process.
"""

import asyncio
import contextlib
import io
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from PIL import Image
from redis import Redis
from rq.job import Job

from shopshot.bot.app import run_bot
from shopshot.bot.callbacks import Step
from shopshot.config import STAND_IN_TOKEN, BudgetSettings, Settings
from shopshot.embedded import embedded_redis
from shopshot.launcher import worker_process
from shopshot.pipeline.gallery import sample_photo, sample_product
from shopshot.playground.client import StandInClient
from shopshot.playground.scripted import Choices, buttons, newer_than, reach_summary, with_button
from shopshot.playground.standin import StandIn

SELLERS = 30
JOBS = 12
ONE_AT_A_TIME = 10


async def bare_bot(api_url: str) -> None:
    """The baseline: an aiogram bot that only answers each photo."""
    bot = Bot(STAND_IN_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api_url)))
    dispatcher = Dispatcher()

    @dispatcher.message(F.photo)
    async def photo_received(message: Message) -> None:
        await message.answer("ok")

    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    try:
        await asyncio.wait({polling})
    finally:
        if not polling.done():
            await dispatcher.stop_polling()


def _serve_stand_in(connection) -> None:
    async def serve() -> None:
        server = StandIn()
        server.state.rate_limit.calls_per_s = (
            None  # the bots' own work is measured here; Telegram's limit in bench/budget.py
        )
        connection.send(await server.start())
        await asyncio.Event().wait()

    asyncio.run(serve())


@contextlib.contextmanager
def stand_in_process():
    """The stand-in in a process of its own, so that its work is not counted against the bot."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve_stand_in, args=(theirs,), daemon=True)
    process.start()
    try:
        yield ours.recv()
    finally:
        process.terminate()
        process.join()


async def intake_rate(start_bot, answered) -> float:
    """Photos per second from `SELLERS` sellers sending one photo each at once, until each is answered."""
    photo = sample_photo()
    with stand_in_process() as url:
        task = asyncio.create_task(start_bot(url))
        try:
            async with StandInClient(url) as api:
                await asyncio.sleep(2)  # started, gallery warmed up
                started = time.perf_counter()
                await asyncio.gather(*(api.send_photo(user, photo) for user in range(1, SELLERS + 1)))
                await asyncio.gather(*(api.wait_for(user, answered, timeout=120) for user in range(1, SELLERS + 1)))
                return SELLERS / (time.perf_counter() - started)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def gallery_latency(start_bot, photo: bytes, as_file: bool) -> list[float]:
    """Seconds from a seller's photo to the arrival of the bot's gallery upload, `ONE_AT_A_TIME` sellers one after another."""
    seconds = []
    with stand_in_process() as url:
        task = asyncio.create_task(start_bot(url))
        try:
            async with StandInClient(url) as api:
                await asyncio.sleep(2)
                for user in range(1, ONE_AT_A_TIME + 1):
                    sent = time.monotonic()  # the stand-in logs time.monotonic() too, the same clock in every process
                    await (
                        api.send_document(user, photo, "product.jpg", mime_type="image/jpeg")
                        if as_file
                        else api.send_photo(user, photo)
                    )
                    await api.wait_for(user, with_button("bd:"), timeout=60)
                    gallery = [call for call in await api.calls("sendPhoto") if call["chat_id"] == user][-1]
                    seconds.append(gallery["time"] - sent)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    return seconds


def twelve_megapixels() -> bytes:
    """The sample photo scaled up to 3000×3750 (a phone's 12 MP) and sent as a file, as it is, to the bot."""
    buffer = io.BytesIO()
    sample_product().resize((3000, 3750), Image.Resampling.LANCZOS).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


async def one_job(api: StandInClient, user: int) -> str:
    """Take one seller from photo to album; return the job id."""
    await api.send_photo(user, sample_photo())
    summary = await reach_summary(api, user, Choices(preset="white"))
    await api.press(user, summary["message_id"], data=Step(action="confirm").pack())
    final = await api.wait_for(user, with_button("rs:"), timeout=120)
    return buttons(final)[0]["callback_data"].split(":")[-1]


async def queue_latency(settings: Settings, redis_url: str) -> tuple[list[float], list[float]]:
    """Milliseconds from enqueue to job start, and from the result event to the album's first send."""
    stand_in = StandIn()
    url = await stand_in.start()
    bot = asyncio.create_task(run_bot(settings, redis_url, url))
    redis = Redis.from_url(redis_url)
    await asyncio.sleep(2)
    clock = time.time() - time.monotonic()  # the stand-in logs monotonic times
    to_start, to_album = [], []
    try:
        async with StandInClient(url) as api:
            for user in range(1, JOBS + 1):
                job = Job.fetch(await one_job(api, user), connection=redis)
                to_start.append((job.started_at - job.enqueued_at).total_seconds() * 1000)
                sends = [
                    c
                    for c in await api.calls()
                    if c["chat_id"] == user and c["method"] in ("sendPhoto", "sendMediaGroup")
                ]
                published = _published_at(redis, settings, job.id)
                to_album.append((sends[-2 if len(sends) > 1 else -1]["time"] + clock - published) * 1000)
    finally:
        bot.cancel()
        await asyncio.gather(bot, return_exceptions=True)
        await stand_in.stop()
    return to_start, to_album


def _published_at(redis: Redis, settings: Settings, job_id: str) -> float:
    for entry_id, fields in redis.xrange(settings.queue.events_stream):
        if job_id.encode() in fields[b"event"]:
            return int(entry_id.split(b"-")[0]) / 1000
    raise LookupError(job_id)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, embedded_redis(Path(tmp) / "redis") as redis_url:
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "data", redis_url=redis_url)
        unmetered = settings.model_copy(update={"budget": BudgetSettings(calls_per_s=100_000, reserve=0)})
        ours = await intake_rate(lambda url: run_bot(unmetered, redis_url, url), with_button("bd:"))
        bare = await intake_rate(bare_bot, newer_than(0))
        as_photo = await gallery_latency(lambda url: run_bot(unmetered, redis_url, url), sample_photo(), as_file=False)
        as_file = await gallery_latency(
            lambda url: run_bot(unmetered, redis_url, url), twelve_megapixels(), as_file=True
        )
        with worker_process(redis_url, Path(tmp) / "worker.log"):
            await asyncio.sleep(2)
            to_start, to_album = await queue_latency(settings, redis_url)
    print("| figure | shopshot | baseline | ratio |")
    print("| --- | --- | --- | --- |")
    print(
        f"| photos/s, intake to gallery ({SELLERS} sellers at once) | {ours:.1f} | {bare:.1f} (bare aiogram bot) | {ours / bare:.2f} |"
    )
    print(
        f"| photo → gallery, median s (the sample as a photo, {ONE_AT_A_TIME} sellers one at a time) | "
        f"{statistics.median(as_photo):.2f} (max {max(as_photo):.2f}) | — | — |"
    )
    print(
        f"| photo → gallery, median s (12 MP sent as a file) | {statistics.median(as_file):.2f} (max {max(as_file):.2f}) | — | — |"
    )
    print(f"| enqueue → job start, median ms ({JOBS} jobs) | {statistics.median(to_start):.0f} | — | — |")
    print(f"| result event → album sent, median ms ({JOBS} jobs) | {statistics.median(to_album):.0f} | — | — |")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
