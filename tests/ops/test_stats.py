"""/stats: the figures for admins, from RQ's registries and the recent durations; others get the fallback."""

import asyncio

import pytest

from shopshot.config import AccessSettings
from shopshot.playground.scripted import newer_than
from shopshot.queue.enqueue import DURATIONS_KEY, JobQueue
from shopshot.queue.spec import JobSpec
from tests.conftest import until

ADMIN, SELLER = 801, 802


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"access": AccessSettings(admin_ids=[ADMIN])})


async def _finish_a_job(redis, settings) -> None:
    # A spec whose photo is gone: the worker answers it at once (InputExpired), and RQ records it finished.
    spec = JobSpec(
        chat_id=SELLER,
        user_id=SELLER,
        status_message_id=1,
        image_key="gone",
        preset="white",
        ratio="1:1",
        variants=1,
        seed=1,
        language="en",
    )
    await asyncio.to_thread(JobQueue(redis, settings.queue).enqueue, spec)
    await until(lambda: redis.zcard(f"rq:finished:{settings.queue.name}"), 30, what="a job in RQ's finished registry")


async def test_admins_get_the_figures_and_others_the_usual_answer(bot, worker, api, redis, settings):
    await _finish_a_job(redis, settings)
    redis.lpush(DURATIONS_KEY, "4.0", "6.0", "5.0")
    redis.rpush("rq:queue:gpu", "queued-1", "queued-2")  # two jobs waiting for a GPU worker
    await api.send_text(ADMIN, "/stats")
    [reply] = await api.wait_for(ADMIN, newer_than(0))
    lines = reply["text"].splitlines()
    assert lines[1:] == [
        "Waiting in studio: 0",
        "Waiting in gpu: 2",
        "Workers alive: 1",
        "Last hour: 1 done, 0 failed",
        "Median job time: 5 seconds",
    ]
    await api.send_text(SELLER, "/stats")
    [answer] = await api.wait_for(SELLER, newer_than(0))
    assert answer["text"].startswith("Please send a photo of your product")
