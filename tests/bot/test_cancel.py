"""/cancel tells the truth at each stage: the conversation, a queued job, a running one, a delivered one."""

import pytest
from rq.job import Job, JobStatus

from shopshot.bot.callbacks import JobChoice, Step
from shopshot.bot.delivery import FORGOTTEN_KEY
from shopshot.bot.limits import IN_FLIGHT_KEY
from shopshot.bot.studio import JOBS_OF_KEY
from shopshot.launcher import worker_process
from shopshot.playground.scripted import buttons, with_button
from shopshot.queue.enqueue import ACTIVE_KEY
from shopshot.queue.store import OWNED_KEY, PREFIX
from tests.conftest import until
from tests.queue.backends import GATE_KEY
from tests.security.conftest import answer_to, at_summary, waiting_jobs

SELLER = 521
CANCELLED = "Cancelled. Send a new photo whenever you're ready."
OFF_THE_QUEUE = "Cancelled before it started: nothing will be made or sent. Send a new photo whenever you're ready."
NOTHING = "There is nothing to cancel: no job of yours is waiting or running. Send a photo to start."
INACTIVE = "This button is no longer active."
GATED = {"BACKEND": "tests.queue.backends:Gated"}


async def _send_cancel(api) -> dict:
    """/cancel; returns the bot's first new message."""
    shown = {message["message_id"] for message in await api.messages(SELLER)}
    await api.send_text(SELLER, "/cancel")
    return await api.wait_for(
        SELLER, lambda messages: next((m for m in messages if m["message_id"] not in shown), None)
    )


def _text_of(message_id: int, text: str):
    """A `wait_for` predicate: that message once its text is `text`."""
    return lambda messages: next((m for m in messages if m["message_id"] == message_id and m["text"] == text), None)


async def _confirm(api, redis, shown: bool = True) -> tuple[str, dict | None]:
    """From /start to a confirmed job; returns its id and its status message, which has a Cancel while it waits
    (None unless `shown`: with a worker up, the job may be done and its status gone before it is seen)."""
    before = set(redis.smembers(JOBS_OF_KEY + str(SELLER)))
    summary = await at_summary(api, SELLER)
    await api.press(SELLER, summary["message_id"], data=Step(action="confirm").pack())
    [job_id] = await until(
        lambda: [key.decode() for key in set(redis.smembers(JOBS_OF_KEY + str(SELLER))) - before], what="the job queued"
    )
    if not shown:
        return job_id, None
    status = await api.wait_for(SELLER, with_button(JobChoice(action="cancel", job_id=job_id).pack()))
    return job_id, status


def _files(messages: list[dict]) -> int:
    """Album photos and full-resolution files the bot sent (the gallery is a photo with a caption)."""
    return sum((m["kind"] == "photo" and not m["caption"]) or m["kind"] == "document" for m in messages)


def _off_the_queue(redis, job_id: str) -> bool:
    """Gone from the queue, from RQ, from the active jobs and from the seller's slots."""
    return (
        job_id not in waiting_jobs(redis)
        and not redis.exists(f"rq:job:{job_id}")
        and not redis.hexists(ACTIVE_KEY, job_id)
        and redis.zscore(IN_FLIGHT_KEY + str(SELLER), job_id) is None
    )


async def test_cancel_at_the_summary_ends_the_conversation_and_a_second_finds_nothing_to_cancel(bot, api, redis):
    summary = await at_summary(api, SELLER)
    assert (await _send_cancel(api))["text"] == CANCELLED
    # The summary's Confirm, still shown on the seller's phone, queues nothing now.
    assert (
        await answer_to(api, SELLER, api.press(SELLER, summary["message_id"], data=Step(action="confirm").pack()))
        == INACTIVE
    )
    assert (await _send_cancel(api))["text"] == NOTHING
    assert not waiting_jobs(redis) and not redis.exists(JOBS_OF_KEY + str(SELLER))


async def test_cancel_while_queued_takes_the_job_off_the_queue_and_it_is_never_delivered(
    bot, api, redis, redis_url, tmp_path
):
    job_id, status = await _confirm(api, redis)  # no worker runs: the job waits in the queue
    waiting = await api.wait_for(
        SELLER,
        lambda messages: next(
            (
                m
                for m in messages
                if m["message_id"] == status["message_id"] and m["text"].startswith("⏳ In the queue: position 1")
            ),
            None,
        ),
    )
    assert buttons(waiting) == buttons(status)  # the board's edits keep the Cancel while the job waits
    assert waiting_jobs(redis) == [job_id] and redis.zscore(IN_FLIGHT_KEY + str(SELLER), job_id) is not None
    assert (await _send_cancel(api))["text"] == OFF_THE_QUEUE
    closed = await api.wait_for(SELLER, _text_of(status["message_id"], "🚫 Cancelled."))
    assert buttons(closed) == [] and _off_the_queue(redis, job_id)
    # A worker comes up and a second job runs: the first one never does, and nothing of it arrives.
    with worker_process(redis_url, tmp_path / "worker.log"):
        second, _ = await _confirm(api, redis, shown=False)
        await api.wait_for(SELLER, with_button("rs:"), timeout=60)
    messages = await api.messages(SELLER)
    assert _files(messages) == 2  # one image of the second job: its album photo and its file
    assert redis.sismember(JOBS_OF_KEY + str(SELLER), second) and not redis.sismember(JOBS_OF_KEY + str(SELLER), job_id)
    assert _text_of(status["message_id"], "🚫 Cancelled.")(messages)


async def test_the_cancel_button_under_a_queued_status_takes_that_job_off_the_queue(bot, api, redis):
    job_id, status = await _confirm(api, redis)
    await api.press(SELLER, status["message_id"], data=JobChoice(action="cancel", job_id=job_id).pack())
    closed = await api.wait_for(SELLER, _text_of(status["message_id"], "🚫 Cancelled."))
    assert buttons(closed) == [] and _off_the_queue(redis, job_id)
    assert (await api.messages(SELLER))[-1]["text"] == OFF_THE_QUEUE
    # Pressed again (the client still showed it): the job is gone, so the button is no longer active.
    pressing = api.forge_callback(SELLER, status["message_id"], JobChoice(action="cancel", job_id=job_id).pack())
    assert await answer_to(api, SELLER, pressing) == INACTIVE


@pytest.mark.parametrize("choice", ["keep", "discard"])
async def test_cancel_while_running_lets_the_seller_keep_or_discard_the_job(
    choice, bot, api, redis, redis_url, settings, tmp_path
):
    # Queued before any worker runs, so its status with the Cancel is seen before a worker takes it.
    job_id, status = await _confirm(api, redis)
    # The job runs until the test lets it finish, however slow the machine.
    with worker_process(redis_url, tmp_path / "worker.log", GATED):
        await until(
            lambda: Job.fetch(job_id, connection=redis).get_status() == JobStatus.STARTED,
            120,
            what="the job to start, its worker starting first",
        )
        question = await _send_cancel(api)
        assert question["text"].startswith("This job has already started.")
        assert [button["callback_data"] for button in buttons(question)] == [
            JobChoice(action=action, job_id=job_id).pack() for action in ("keep", "discard")
        ]
        await api.press(SELLER, question["message_id"], data=JobChoice(action=choice, job_id=job_id).pack())
        answered = await api.wait_for(
            SELLER,
            lambda messages: next(
                (m for m in messages if m["message_id"] == question["message_id"] and not buttons(m)), None
            ),
        )
        redis.set(GATE_KEY, 1)
        if choice == "keep":
            assert answered["text"] == "Kept: the images come as usual."
            await api.wait_for(SELLER, with_button("rs:"), timeout=60)
            assert _files(await api.messages(SELLER)) == 2
        else:
            assert answered["text"] == "Discarded: nothing more of this job will be sent, and its images are deleted."
            await api.wait_for(SELLER, _text_of(status["message_id"], "🚫 Cancelled."), timeout=60)
            assert (
                redis.exists(FORGOTTEN_KEY + job_id)
                and Job.fetch(job_id, connection=redis).get_status() == JobStatus.FINISHED
            )
            messages = await api.messages(SELLER)
            assert _files(messages) == 0 and not with_button("rs:")(messages)
            # Its results are deleted: of the seller's stored images, only the photo they sent is left, with its gallery pages beside it.
            owned = {key.decode() for key in redis.smembers(OWNED_KEY + str(SELLER))}
            [photo] = [key for key in owned if ":gallery-" not in key]
            assert owned - {photo} and all(key.startswith(photo + ":gallery-") for key in owned - {photo})
            assert {key.decode() for key in redis.scan_iter(match=PREFIX + "*")} == owned
            assert redis.xlen(settings.queue.events_stream) == 0  # the event named the seller: it went with the results
    # Delivered, or discarded: either way nothing is left to cancel.
    assert (await _send_cancel(api))["text"] == NOTHING
