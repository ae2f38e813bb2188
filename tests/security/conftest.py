"""Fixtures of the security tests: the bot started with the limits or access a test needs, a seller at the summary."""

import asyncio

import pytest

from shopshot.bot.callbacks import ForgetChoice
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, buttons, newer_than, reach_summary, with_button
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


FORGOTTEN = "Done: I deleted your photos, results, choices, saved looks and language setting."


async def ask_forget(api, user: int) -> dict:
    """Send /forget; returns the question it asks, with its buttons."""
    shown = {message["message_id"] for message in await api.messages(user)}
    await api.send_text(user, "/forget")
    return await api.wait_for(
        user,
        lambda messages: with_button(f"{ForgetChoice.__prefix__}:")(
            [m for m in messages if m["message_id"] not in shown]
        ),
    )


def forget_button(question: dict, action: str = "delete") -> str:
    """The callback data of one of a /forget question's buttons."""
    return next(
        button["callback_data"]
        for button in buttons(question)
        if ForgetChoice.unpack(button["callback_data"]).action == action
    )


async def forget(api, user: int) -> dict:
    """/forget, confirmed; returns the question once it says the seller's data is gone."""
    question = await ask_forget(api, user)
    await api.press(user, question["message_id"], data=forget_button(question))
    return await api.wait_for(
        user,
        lambda messages: next(
            (m for m in messages if m["message_id"] == question["message_id"] and m["text"] == FORGOTTEN), None
        ),
    )


async def answer_to(api, user: int, pressing) -> str:
    """The text of the bot's answer to a button press, `pressing` being the not yet awaited press."""
    query_id = await pressing
    for _ in range(600):
        found = [
            answer["text"] for answer in await api.callback_answers(user) if answer["callback_query_id"] == query_id
        ]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise TimeoutError(f"no answer to the press {query_id}")
