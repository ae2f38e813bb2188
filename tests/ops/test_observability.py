"""A real bot process and a real worker process on a password-protected Redis, with a token: their
metrics move with a job, their health endpoints tell the truth, and their JSON logs hold no secret
and no raw user id, through a conversation and a job that fails."""

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis

from shopshot.config import Settings
from shopshot.errors import JobFailed
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.client import StandInClient
from shopshot.playground.scripted import Choices, newer_than, play_conversation
from shopshot.playground.standin import StandIn
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.spec import JobSpec
from tests.conftest import free_port, until
from tests.ops.conftest import REDIS_PASSWORD, TOKEN, get, scrape, shopshot_process, wait_until_healthy

USER = 987654321


@dataclass
class Stack:
    api: StandInClient
    api_url: str
    redis: Redis
    bot_port: int
    worker_port: int
    logs: list[Path]


@pytest.fixture
async def stack(settings, locked_redis_url, tmp_path):
    stand_in = StandIn(token=TOKEN)
    api_url = await stand_in.start()
    bot_port, worker_port = free_port(), free_port()
    env = {
        "REDIS_URL": locked_redis_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "OBSERVABILITY__LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",
        "DATA_DIR": str(tmp_path / "data"),
    }
    logs = [tmp_path / "worker.log", tmp_path / "bot.log"]
    redis = Redis.from_url(locked_redis_url)
    try:
        with (
            shopshot_process("worker", env | {"OBSERVABILITY__METRICS_PORT": str(worker_port)}, logs[0]) as worker,
            shopshot_process("bot", env | {"OBSERVABILITY__METRICS_PORT": str(bot_port)}, logs[1]) as bot,
        ):
            await wait_until_healthy(worker_port, worker, logs[0])
            await wait_until_healthy(bot_port, bot, logs[1])
            async with StandInClient(api_url) as api:
                yield Stack(api, api_url, redis, bot_port, worker_port, logs)
    finally:
        redis.close()
        await stand_in.stop()


def _value(samples: dict, name: str, **labels: str) -> float:
    return sum(
        value for (sample, found), value in samples.items() if sample == name and labels.items() <= dict(found).items()
    )


async def test_a_job_moves_the_counters_of_the_bot_and_the_worker(stack, tmp_path):
    bot_before, worker_before = await scrape(stack.bot_port), await scrape(stack.worker_port)
    await play_conversation(stack.api_url, USER, sample_photo(), tmp_path / "out", Choices(preset="white", variants=1))
    bot, worker = await scrape(stack.bot_port), await scrape(stack.worker_port)
    moved = lambda samples, before, name, **labels: _value(samples, name, **labels) - _value(before, name, **labels)
    assert moved(bot, bot_before, "shopshot_updates_handled_total", type="message") >= 2  # /start and the photo
    assert moved(bot, bot_before, "shopshot_updates_handled_total", type="callback_query") >= 3
    assert moved(bot, bot_before, "shopshot_jobs_queued_total", task="backdrop") == 1
    assert moved(bot, bot_before, "shopshot_delivery_latency_seconds_count") == 1
    assert moved(worker, worker_before, "shopshot_jobs_started_total", task="backdrop") == 1
    assert moved(worker, worker_before, "shopshot_jobs_finished_total", task="backdrop") == 1
    assert moved(worker, worker_before, "shopshot_job_duration_seconds_count", task="backdrop", mode="studio") == 1
    assert _value(bot, "shopshot_queue_depth", queue="studio") == 0 and _value(bot, "shopshot_workers_alive") == 1
    assert _value(worker, "shopshot_telegram_api_errors_total") == 0  # the worker never talks to Telegram


async def test_health_endpoints_tell_a_stale_worker_and_telegram_errors_are_counted_by_code(stack):
    assert await get(f"http://127.0.0.1:{stack.bot_port}/healthz") == (200, "ok")
    await stack.api.inject_fault("sendMessage", status=500, retry_after=None)
    await stack.api.send_text(USER, "/help")
    await stack.api.wait_for(USER, newer_than(0))
    assert _value(await scrape(stack.bot_port), "shopshot_telegram_api_errors_total", code="5xx") == 1
    # A heartbeat older than RQ's limit: as if the worker had hung since then.
    [key] = [key for key in stack.redis.keys("rq:worker:*") if b":" not in key.removeprefix(b"rq:worker:")]
    stack.redis.hset(key, "last_heartbeat", (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    status, reason = await get(f"http://127.0.0.1:{stack.worker_port}/healthz")
    assert status == 503 and "heartbeat" in reason


async def test_json_logs_hold_no_secret_and_no_raw_user_id(stack, tmp_path):
    await stack.api.inject_fault("sendMessage", status=502, retry_after=None)
    await play_conversation(stack.api_url, USER, sample_photo(), tmp_path / "out", Choices(preset="white", variants=1))
    await _fail_a_job(stack)
    lines = [line for path in stack.logs for line in path.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    text = "\n".join(lines)
    for secret in (TOKEN, TOKEN.split(":")[1], REDIS_PASSWORD):
        assert secret not in text
    assert str(USER) not in text
    assert any("unix://:***@" in entry["message"] for entry in entries)  # the Redis URL was logged, redacted
    job_lines = [entry for entry in entries if entry.get("job_id")]
    assert job_lines and all(len(entry["user"]) == 12 for entry in job_lines)
    assert any("Traceback" in entry["message"] + entry.get("error", "") for entry in job_lines)  # the failing job


async def _fail_a_job(stack: Stack) -> None:
    # A stored image of the wrong Redis type makes the job raise (not a seller's error): retried, then failed.
    stack.redis.rpush("shopshot:blob:broken", "x")
    welcome = (await stack.api.messages(USER))[0]
    spec = JobSpec(
        chat_id=USER,
        user_id=USER,
        status_message_id=welcome["message_id"],
        image_key="shopshot:blob:broken",
        preset="white",
        ratio="1:1",
        variants=1,
        seed=1,
        language="en",
    )
    count = len(await stack.api.messages(USER))
    await asyncio.to_thread(JobQueue(stack.redis, Settings().queue).enqueue, spec)
    replies = await stack.api.wait_for(USER, newer_than(count), timeout=60)
    assert replies[-1]["text"] == JobFailed.message
    assert replies[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"].startswith("rs:retry:")

    async def three_failures_counted() -> bool:
        return _value(await scrape(stack.worker_port), "shopshot_jobs_failed_total") >= 3

    await until(three_failures_counted, 10, 0.2)
    assert _value(await scrape(stack.worker_port), "shopshot_jobs_failed_total", task="backdrop") == 3  # 2 retries
