"""Memory benchmark: peak RSS of a real bot process and a real worker process on 40-MP inputs, beside 12 MP.

Run with `make bench` (or `.venv/bin/python bench/memory.py`). An embedded Redis, the Bot API
stand-in, `python -m shopshot bot` and `python -m shopshot worker` run on this machine; psutil
samples each child's resident memory every 10 ms.

The inputs are drawn, not photographed: a flat teal oval filling most of an off-white frame, saved
as PNG. Like the 143 kB PNGs of the attack on the running bot, they are tiny files that decode to
huge images, and the oval's large box makes the largest 9:16 canvas a product of that size can get.
"""

import asyncio
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import cv2
import numpy as np
import psutil
from PIL import Image
from redis import Redis
from rq.job import Job
from service import stand_in_process  # bench/service.py: bench/ is on the path when run as a script

from shopshot.config import STAND_IN_TOKEN, Settings
from shopshot.embedded import embedded_redis
from shopshot.launcher import stop_process, worker_process
from shopshot.playground.client import StandInClient
from shopshot.playground.scripted import with_button
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.events import JobEvent
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import open_store

SELLERS = 6
SIZES_MP = (12, 39.9)  # the pixel limit is 40 MP


def drawn_product_png(megapixels: float) -> bytes:
    """A 4:5 PNG of `megapixels`: a flat teal oval on off-white (about 150 kB at 40 MP)."""
    width = round((megapixels * 1e6 * 4 / 5) ** 0.5)
    height = round(megapixels * 1e6 / width)
    pixels = np.full((height, width, 3), (238, 234, 227), np.uint8)
    cv2.ellipse(
        pixels, (width // 2, height // 2), (round(0.42 * width), round(0.45 * height)), 0, 0, 360, (28, 104, 116), -1
    )
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


class PeakRss:
    """Samples a process's resident set size in a thread; `peak` and `last` are in MB."""

    def __init__(self, pid: int) -> None:
        self.process, self.peak, self.last = psutil.Process(pid), 0.0, 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.stop.wait(0.01):
            with contextlib.suppress(psutil.Error):
                self.last = self.process.memory_info().rss / 2**20
                self.peak = max(self.peak, self.last)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


@contextlib.contextmanager
def bot_process(api_url: str, redis_url: str, data_dir: Path) -> Iterator[subprocess.Popen]:
    """`python -m shopshot bot` against the stand-in, as tests/faults runs it."""
    env = os.environ | {
        "TELEGRAM_BOT_TOKEN": STAND_IN_TOKEN,
        "TELEGRAM_API_URL": api_url,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(data_dir),
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "bot.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "shopshot", "bot"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        stop_process(process)


async def bot_intake(redis_url: str, tmp: Path, png: bytes, first_user: int) -> tuple[float, float, float]:
    """Idle, peak and after RSS (MB) of a fresh bot process while SELLERS sellers send `png` as a file at once."""
    with stand_in_process() as api_url, bot_process(api_url, redis_url, tmp / f"bot-{first_user}") as process:
        async with StandInClient(api_url) as api:
            users = range(first_user + 1, first_user + 1 + SELLERS)
            await api.send_text(first_user, "/start")  # answered once the bot polls and its gallery is warm
            await api.wait_for(first_user, _any_answer, timeout=120)
            await asyncio.sleep(2)
            with PeakRss(process.pid) as rss:
                idle = rss.process.memory_info().rss / 2**20
                await asyncio.gather(
                    *(api.send_document(user, png, "product.png", mime_type="image/png") for user in users)
                )
                answers = await asyncio.gather(*(api.wait_for(user, _any_answer, timeout=600) for user in users))
                await asyncio.sleep(1)
    if not all(with_button("bd:")(messages) for messages in answers):
        raise RuntimeError(f"a seller was not shown the gallery: {answers}")
    return idle, rss.peak, rss.last


def _any_answer(messages: list[dict]) -> list[dict] | None:
    return messages if any(message["from_bot"] for message in messages) else None


def worker_job(redis_url: str, tmp: Path, png: bytes, seed: int) -> tuple[float, float, tuple[int, int]]:
    """Idle and peak RSS (MB) of a fresh worker process rendering `png` at 9:16 × 4 variants, and the output size."""
    settings = Settings(_env_file=None, data_dir=tmp / "data", redis_url=redis_url)
    redis = Redis.from_url(redis_url)
    key = open_store(redis, settings).put(png, owner=seed)
    spec = JobSpec(
        chat_id=seed,
        user_id=seed,
        status_message_id=0,
        image_key=key,
        preset="studio",
        ratio="9:16",
        variants=4,
        seed=seed,
        language="en",
    )
    with worker_process(redis_url, tmp / f"worker-{seed}.log") as process:
        time.sleep(5)  # imported and registered, waiting on the queue
        with PeakRss(process.pid) as rss:
            idle = rss.process.memory_info().rss / 2**20
            job = Job.fetch(JobQueue(redis, settings.queue).enqueue(spec), connection=redis)
            while not (job.is_finished or job.is_failed):
                time.sleep(0.2)
                job.refresh()
    result = job.return_value()
    if not result or "images" not in result:
        raise RuntimeError(f"the job did not render: {result}")
    return idle, rss.peak, _output_size(redis, settings)


def _output_size(redis: Redis, settings: Settings) -> tuple[int, int]:
    [(_, fields)] = redis.xrevrange(settings.queue.events_stream, count=1)
    image = JobEvent.from_fields(fields).images[0]
    return image.width, image.height


async def main() -> None:
    pngs = {mp: drawn_product_png(mp) for mp in SIZES_MP}
    print("| process | input | idle MB | peak MB | after MB |")
    print("| --- | --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp, embedded_redis(Path(tmp) / "redis") as redis_url:
        for number, mp in enumerate(SIZES_MP):
            idle, peak, after = await bot_intake(redis_url, Path(tmp), pngs[mp], 100 * (number + 1))
            size = Image.open(io.BytesIO(pngs[mp])).size
            print(
                f"| bot | {SELLERS} × {mp:g}-MP PNG ({size[0]}×{size[1]}, {len(pngs[mp]) // 1000} kB) at once "
                f"| {idle:.0f} | {peak:.0f} | {after:.0f} |",
                flush=True,
            )
        for mp in SIZES_MP:
            idle, peak, output = worker_job(redis_url, Path(tmp), pngs[mp], seed=round(mp))
            print(
                f"| worker | one {mp:g}-MP job, studio 9:16 × 4 (outputs {output[0]}×{output[1]}) "
                f"| {idle:.0f} | {peak:.0f} | |",
                flush=True,
            )


if __name__ == "__main__":
    asyncio.run(main())
