"""Scale benchmark: many jobs with an instant backend through real workers, the result stream and bot replicas.

Run with `make soak` (10,000 jobs) or `.venv/bin/python bench/scale.py --jobs 2000`. On this machine:
an embedded Redis, the Bot API stand-in (no rate limit), `--bots` bot processes in webhook mode
(each its own consumer in the result stream's group) and `--workers` worker processes whose backend
makes one 8×8 image at once, so what is measured is shopshot's own path: queue, blob store, stream,
delivery. Jobs are queued as the bot's Confirm queues them (JobQueue.enqueue), the sellers' limits
aside. Prints jobs/s, Redis memory at peak and at rest, latency percentiles and lost/duplicated.
"""

import argparse
import asyncio
import collections
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from PIL import Image
from redis import Redis
from rq.job import Job

from shopshot.bot.delivery import DELIVERED_KEY, DELIVERED_TTL_S
from shopshot.config import STAND_IN_TOKEN, Settings
from shopshot.embedded import embedded_redis
from shopshot.launcher import stop_process, worker_process
from shopshot.pipeline.gallery import sample_photo
from shopshot.pipeline.studio import RenderedImage, StudioBackend
from shopshot.playground.client import StandInClient
from shopshot.playground.standin import StandIn
from shopshot.queue.enqueue import ACTIVE_KEY, JobQueue
from shopshot.queue.events import PUBLISHED_KEY
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import open_store

REPO = Path(__file__).resolve().parents[1]
SELLER_BASE = 900_000


class Instant(StudioBackend):
    """One tiny image at once: the render costs nothing, the path around it is what is measured."""

    def __init__(self, settings=None) -> None:
        super().__init__()

    def run(self, request, progress=None):
        return [RenderedImage(Image.new("RGB", (8, 8), (200, 200, 200)), request.seed, Image.new("L", (8, 8)), (0, 0))]


def _environment(url: str, api_url: str, data_dir: Path) -> dict[str, str]:
    return os.environ | {
        "REDIS_URL": url,
        "TELEGRAM_API_URL": api_url,
        "DATA_DIR": str(data_dir),
        "PYTHONPATH": f"{REPO / 'src'}:{REPO}",
        "BUDGET__CALLS_PER_S": "100000",
        "BUDGET__RESERVE": "1",
        "LOG_LEVEL": "WARNING",
        # A token, so that `shopshot bot` talks to TELEGRAM_API_URL (this stand-in) instead of starting a playground of its own.
        "TELEGRAM_BOT_TOKEN": STAND_IN_TOKEN,
    }


def _bot(env: dict[str, str], number: int, log: Path) -> subprocess.Popen:
    port = 18_400 + number
    replica = env | {
        "INSTANCE_NAME": f"bot-{number}",
        "WEBHOOK__URL": f"http://127.0.0.1:{port}/telegram",
        "WEBHOOK__SECRET": "bench-secret",
        "WEBHOOK__HOST": "127.0.0.1",
        "WEBHOOK__PORT": str(port),
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "shopshot", "bot"], env=replica, stdout=out, stderr=subprocess.STDOUT
        )


def _memory(redis: Redis) -> int:
    return int(redis.info("memory")["used_memory"])


def _delivered(redis: Redis, job_ids: list[str]) -> int:
    pipe = redis.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.exists(DELIVERED_KEY + job_id)
    return sum(pipe.execute())


def _all_handled(redis: Redis, stream: str, jobs: int) -> bool:
    """Every job published and every entry read and acknowledged: three commands, so polling barely counts in the figures."""
    if redis.xlen(stream) < jobs:
        return False
    [group] = redis.xinfo_groups(stream)
    return group["pending"] == 0 and group["last-delivered-id"] == redis.xrevrange(stream, count=1)[0][0]


def _counters(redis: Redis) -> tuple[float, ...]:
    """Commands, network bytes in and out, and CPU seconds of the Redis server so far."""
    stats, cpu = redis.info("stats"), redis.info("cpu")
    return (
        stats["total_commands_processed"],
        stats["total_net_input_bytes"],
        stats["total_net_output_bytes"],
        cpu["used_cpu_user"] + cpu["used_cpu_sys"],
    )


def _breakdown(redis: Redis) -> dict[str, int]:
    """Redis memory by kind of key (its first two parts, "rq:job", "shopshot:published" …), largest first, in bytes."""
    kinds: collections.Counter = collections.Counter()
    for name in redis.scan_iter(count=1000):
        parts = name.decode().split(":")
        kinds[":".join(parts[:2] if len(parts) > 1 and not parts[1].isdigit() else parts[:1])] += (
            redis.memory_usage(name) or 0
        )
    return dict(kinds.most_common(10))


def _percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100)
    return f"p50 {1000 * cuts[49]:.0f} ms, p99 {1000 * cuts[98]:.0f} ms, max {1000 * max(values):.0f} ms"


def _latencies(redis: Redis, job_ids: list[str]) -> tuple[list[float], list[float]]:
    """Enqueue→start from RQ's own times; result→album from the stream entry's id and the delivered mark's remaining TTL."""
    starts = [
        (job.started_at - job.enqueued_at).total_seconds()
        for job in Job.fetch_many(job_ids, connection=redis)
        if job and job.started_at and job.enqueued_at
    ]
    seconds, micros = redis.time()
    now_ms = seconds * 1000 + micros // 1000
    pipe = redis.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.get(PUBLISHED_KEY + job_id).pttl(DELIVERED_KEY + job_id)
    answers = pipe.execute()
    albums = []
    for entry_id, left_ms in zip(answers[::2], answers[1::2]):
        if entry_id and b"-" in entry_id and left_ms > 0:
            delivered_ms = now_ms - (DELIVERED_TTL_S * 1000 - left_ms)
            albums.append(max(0, delivered_ms - int(entry_id.split(b"-")[0])) / 1000)
    return starts, albums


async def bench(jobs: int, workers: int, bots: int, sellers: int, timeout_s: float, rate: float = 0) -> dict:
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        root = Path(folder)
        url = stack.enter_context(embedded_redis(root / "redis"))
        redis = Redis.from_url(url)
        stand_in = StandIn()
        api_url = await stand_in.start()
        api = StandInClient(api_url)
        await api.__aenter__()
        try:
            await api.set_rate_limit(None)
            env = _environment(url, api_url, root / "data")
            os.environ.update({"DATA_DIR": str(root / "data")})
            settings = Settings(_env_file=None)
            replicas = [_bot(env, number, root / f"bot-{number}.log") for number in range(bots)]
            for replica in replicas:
                stack.callback(stop_process, replica)
            for number in range(workers):
                stack.enter_context(
                    worker_process(url, root / f"worker-{number}.log", {**env, "BACKEND": "bench.scale:Instant"})
                )
            chats = [SELLER_BASE + number for number in range(sellers)]
            for chat in chats:  # a chat exists once its seller has written (the webhook replica answers)
                await api.send_text(chat, "/start")
            welcome = {}
            deadline = time.monotonic() + 120
            while len(welcome) < sellers and time.monotonic() < deadline:
                for chat in chats:
                    if chat not in welcome and (messages := await api.messages(chat)):
                        welcome[chat] = messages[0]["message_id"]
                await asyncio.sleep(0.5)
            store = open_store(redis, settings)
            photos = {chat: store.put(sample_photo(), chat) for chat in chats}
            for chat in chats:
                store.keep(photos[chat])
            baseline = _memory(redis)
            before = _counters(redis)
            queue = JobQueue(redis, settings.queue)
            started = time.monotonic()
            job_ids, peak, peak_in_flight = [], baseline, 0
            last_sample = 0.0
            for number in range(jobs):
                chat = chats[number % sellers]
                spec = JobSpec(
                    chat_id=chat,
                    user_id=chat,
                    status_message_id=welcome.get(chat, 1),
                    image_key=photos[chat],
                    preset="white",
                    ratio="1:1",
                    variants=1,
                    seed=number,
                    language="en",
                )
                job_ids.append(await asyncio.to_thread(queue.enqueue, spec))
                if rate:  # sellers arriving at a steady pace rather than all at once
                    await asyncio.sleep(max(0.0, started + (number + 1) / rate - time.monotonic()))
                if time.monotonic() - last_sample > 1:
                    last_sample = time.monotonic()
                    peak = max(peak, _memory(redis))
            enqueued_s = time.monotonic() - started
            deadline = time.monotonic() + timeout_s
            stream = settings.queue.events_stream
            while time.monotonic() < deadline and not await asyncio.to_thread(_all_handled, redis, stream, jobs):
                if (memory := _memory(redis)) > peak:
                    # In flight: queued, running, or done and not yet taken for delivery (the bot clears it first).
                    peak, peak_in_flight = memory, redis.hlen(ACTIVE_KEY)
                await asyncio.sleep(1)
            elapsed = time.monotonic() - started
            await asyncio.sleep(3)  # the last deliveries' deletions and acknowledgements
            after = _counters(redis)
            rest = _memory(redis)
            delivered = _delivered(redis, job_ids)
            starts, album_waits = _latencies(redis, job_ids)
            calls = await api.calls()
            photos_sent = collections.Counter(
                call["chat_id"] for call in calls if call["method"] == "sendPhoto" and call["ok"]
            )
            by_method = collections.Counter(call["method"] for call in calls if call["ok"])
            expected = collections.Counter(chats[number % sellers] for number in range(jobs))
            duplicated = sum(max(0, photos_sent[chat] - expected[chat]) for chat in chats)
            albums = sum(min(photos_sent[chat], expected[chat]) for chat in chats)  # each job's album is one photo
            commands, net_in, net_out, cpu_s = (end - start for end, start in zip(after, before))
            return {
                "jobs": jobs,
                "rate": rate or "all at once",
                "workers": workers,
                "bots": bots,
                "sellers": sellers,
                "enqueue_s": round(enqueued_s, 1),
                "elapsed_s": round(elapsed, 1),
                "jobs_per_s": round(delivered / elapsed, 1),
                "redis_baseline_mb": round(baseline / 2**20, 2),
                "redis_peak_mb": round(peak / 2**20, 2),
                "redis_rest_mb": round(rest / 2**20, 2),
                # At the peak: the jobs in flight, and the others finished (each holding what a finished job holds).
                "bytes_per_job_in_flight": round(
                    (peak - baseline - (jobs - peak_in_flight) * (rest - baseline) / jobs) / peak_in_flight
                )
                if peak_in_flight
                else None,
                "peak_in_flight": peak_in_flight,
                "bytes_per_finished_job": round((rest - baseline) / max(1, delivered)),
                "enqueue_to_start": _percentiles(starts),
                "result_to_album": _percentiles(album_waits),
                "redis_commands_per_job": round(commands / jobs, 1),
                "redis_bytes_in_per_job": round(net_in / jobs),
                "redis_bytes_out_per_job": round(net_out / jobs),
                # One Redis runs commands on one core: this many jobs a second would keep it busy all the time.
                "redis_cpu_ms_per_job": round(1000 * cpu_s / jobs, 2),
                "redis_saturates_at_jobs_per_s": round(jobs / cpu_s) if cpu_s else None,
                "bot_api_calls_per_job": {method: round(count / jobs, 2) for method, count in by_method.most_common(6)},
                "delivered_marks": delivered,
                "albums_received": albums,
                "bots_still_running": sum(replica.poll() is None for replica in replicas),
                "lost": jobs - albums,
                "duplicated": duplicated,
                "stream_entries_left": redis.xlen(settings.queue.events_stream),
                "redis_at_rest_by_key": _breakdown(redis),
                "blob_bytes_in_redis": 0
                if max(redis.memory_usage(key) for key in redis.scan_iter(match="shopshot:blob:*")) < 1024
                else "found",
            }
        finally:
            await api.__aexit__(None, None, None)
            await stand_in.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--bots", type=int, default=2)
    parser.add_argument("--sellers", type=int, default=100)
    parser.add_argument("--timeout-s", type=float, default=3600)
    parser.add_argument("--rate", type=float, default=0, help="jobs queued a second (0: all at once, a backlog)")
    arguments = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds, so the bots, workers and Redis are stopped
    figures = asyncio.run(
        bench(arguments.jobs, arguments.workers, arguments.bots, arguments.sellers, arguments.timeout_s, arguments.rate)
    )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
