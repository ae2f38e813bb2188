"""Fixtures of the security tests: the bot started with the limits or access a test needs, a seller at the summary."""

import pytest

from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, newer_than, reach_summary
from tests.conftest import BotRunner


@pytest.fixture
async def start_bot(settings, redis_url, stand_in):
    """Start the real bot with some settings groups replaced, e.g. `start_bot(limits=LimitSettings(...))`."""
    runners = []

    def start(**groups) -> BotRunner:
        runner = BotRunner(settings.model_copy(update=groups), redis_url, stand_in)
        runner.start()
        runners.append(runner)
        return runner

    yield start
    for runner in runners:
        await runner.stop()


async def at_summary(api, user: int, preset: str = "white") -> dict:
    """A seller who sent /start and a photo and chose one image on a backdrop; returns the summary message."""
    await api.send_text(user, "/start")
    await api.wait_for(user, newer_than(0))
    await api.send_photo(user, sample_photo())
    return await reach_summary(api, user, Choices(preset=preset, ratio="1:1", variants=1))


def waiting_jobs(redis, queue: str = "studio") -> list[str]:
    """Ids of the jobs waiting in a queue, oldest first."""
    return [job_id.decode() for job_id in redis.lrange(f"rq:queue:{queue}", 0, -1)]
