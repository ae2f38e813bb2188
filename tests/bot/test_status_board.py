"""The status message: queue position, then progress with a bar and an ETA, edited at a bounded rate."""

import asyncio
import time
from datetime import timedelta

import pytest
from aiogram.utils.i18n import I18n
from rq.job import Job, JobStatus
from rq.utils import now

from shopshot.bot.app import create_bot, locales_dir
from shopshot.bot.status_board import StatusBoard
from shopshot.pipeline.diffusion.backend import DiffusionBackend
from shopshot.pipeline.studio import StudioBackend
from shopshot.queue.enqueue import ACTIVE_KEY, JobQueue
from shopshot.queue.jobs import WorkerContext
from shopshot.queue.spec import JobSpec
from shopshot.queue.worker import StudioWorker

CHAT = 77


@pytest.fixture
async def board_and_bot(settings, stand_in, redis, api):
    await api.send_text(CHAT, "/start")  # Telegram knows a private chat once its user has written
    bot = create_bot(settings, stand_in)
    jobs = JobQueue(redis, settings.queue)
    i18n = I18n(path=locales_dir(), default_locale="en", domain="shopshot")
    yield StatusBoard(bot, jobs, i18n, min_edit_s=0.0), bot, jobs
    await bot.session.close()


async def _queue(bot, jobs: JobQueue, language: str = "en", backend: str = "studio") -> tuple[str, int]:
    status = await bot.send_message(CHAT, "⏳")
    spec = JobSpec(
        chat_id=CHAT,
        user_id=CHAT,
        status_message_id=status.message_id,
        image_key="k",
        preset="white",
        ratio="1:1",
        variants=1,
        seed=1,
        language=language,
        backend=backend,
    )
    return jobs.enqueue(spec), status.message_id


def _start(jobs: JobQueue, job_id: str, progress: float, elapsed_s: float) -> None:
    job = Job.fetch(job_id, connection=jobs.redis)
    job.set_status(JobStatus.STARTED)
    job.started_at = now() - timedelta(seconds=elapsed_s)
    job.meta["progress"] = progress
    job.save()


async def test_queue_position_then_progress_and_eta(board_and_bot, api):
    board, bot, jobs = board_and_bot
    first, first_message = await _queue(bot, jobs)
    _second, second_message = await _queue(bot, jobs)
    await board.refresh()
    texts = {m["message_id"]: m["text"] for m in await api.messages(CHAT)}
    assert "position 1" in texts[first_message] and "position 2" in texts[second_message]
    _start(jobs, first, progress=0.5, elapsed_s=4)
    await board.refresh()
    text = {m["message_id"]: m["text"] for m in await api.messages(CHAT)}[first_message]
    assert "▓▓▓▓▓░░░░░ 50%" in text and "About 4 seconds left." in text


async def test_a_job_waiting_with_no_live_worker_says_the_studio_is_offline_until_one_beats(
    board_and_bot, api, redis, settings
):
    board, bot, jobs = board_and_bot
    _, message_id = await _queue(bot, jobs)
    await board.refresh()
    text = {m["message_id"]: m["text"] for m in await api.messages(CHAT)}[message_id]
    assert (
        text == "⏳ In the queue: position 1. The studio is offline right now; your job starts as soon as it is back."
    )
    worker = StudioWorker(
        [jobs.queue], connection=redis, context=WorkerContext(settings=settings, backend=StudioBackend())
    )
    worker.register_birth()  # registers and beats, as a worker process does on start
    await board.refresh()
    text = {m["message_id"]: m["text"] for m in await api.messages(CHAT)}[message_id]
    assert text.startswith("⏳ In the queue: position 1. Starting in about")


async def test_before_any_job_has_run_the_wait_is_what_each_queues_backend_states(board_and_bot, api, redis, settings):
    board, bot, jobs = board_and_bot
    for queue, backend in ((jobs.queue, StudioBackend()), (jobs.gpu_queue, DiffusionBackend(settings.diffusion))):
        StudioWorker(
            [queue], connection=redis, context=WorkerContext(settings=settings, backend=backend)
        ).register_birth()
    studio_ids = [(await _queue(bot, jobs))[1] for _ in range(3)]
    _, diffusion_id = await _queue(bot, jobs, backend="diffusion")
    await board.refresh()
    text = {m["message_id"]: m["text"] for m in await api.messages(CHAT)}
    studio_wait = round(3 * StudioBackend.typical_job_s)  # position 3, one worker
    assert text[studio_ids[2]] == f"⏳ In the queue: position 3. Starting in about {studio_wait} seconds."
    assert (
        text[diffusion_id]
        == f"⏳ In the queue: position 1. Starting in about {round(DiffusionBackend.typical_job_s)} seconds."
    )


async def test_status_speaks_the_jobs_language(board_and_bot, api):
    board, bot, jobs = board_and_bot
    _, message_id = await _queue(bot, jobs, language="zh_Hans")
    await board.refresh()
    text = {m["message_id"]: m["text"] for m in await api.messages(CHAT)}[message_id]
    assert "1" in text and "position" not in text and any("\u4e00" <= ch <= "\u9fff" for ch in text)


async def test_edits_are_throttled_and_unchanged_text_is_not_resent(board_and_bot, api):
    board, bot, jobs = board_and_bot
    board.min_edit_s = 60.0
    job_id, _ = await _queue(bot, jobs)
    await board.refresh()
    await board.refresh()  # same text: no edit
    _start(jobs, job_id, progress=0.3, elapsed_s=1)
    await board.refresh()  # changed, but inside the minimum interval: no edit
    assert len(await api.calls("editMessageText")) == 1


async def test_delivered_jobs_are_left_alone(board_and_bot, api, redis):
    board, bot, jobs = board_and_bot
    job_id, _ = await _queue(bot, jobs)
    redis.hdel("shopshot:active", job_id)
    await board.refresh()
    assert await api.calls("editMessageText") == []


async def test_a_closed_status_is_never_overwritten_by_a_late_refresh(board_and_bot, api):
    board, bot, jobs = board_and_bot
    job_id, message_id = await _queue(bot, jobs)
    await board.close(job_id, CHAT, message_id, "✅ Done.")
    await board.refresh()  # the job is still listed as active: delivery had not removed it yet
    assert {m["message_id"]: m["text"] for m in await api.messages(CHAT)}[message_id] == "✅ Done."


async def test_a_429_on_a_progress_edit_pauses_that_chat_without_waiting_and_done_still_lands(board_and_bot, api):
    board, bot, jobs = board_and_bot
    job_id, message_id = await _queue(bot, jobs)
    await api.inject_fault("editMessageText", status=429, retry_after=2)
    started = time.monotonic()
    await board.refresh()
    assert time.monotonic() - started < 1.5  # the loop did not sleep out the retry_after
    _start(jobs, job_id, progress=0.4, elapsed_s=2)
    await board.refresh()  # inside the quiet period: not even tried
    assert len(await api.calls("editMessageText")) == 1
    await asyncio.sleep(max(0.0, started + 2.1 - time.monotonic()))
    await board.refresh()
    assert "40%" in {m["message_id"]: m["text"] for m in await api.messages(CHAT)}[message_id]
    await api.inject_fault("editMessageText", status=429, retry_after=1)
    await board.close(job_id, CHAT, message_id, "✅ Done.")  # the final text waits and is retried
    assert {m["message_id"]: m["text"] for m in await api.messages(CHAT)}[message_id] == "✅ Done."


async def test_what_the_board_keeps_is_bounded_by_the_jobs_active_now(board_and_bot, redis):
    board, bot, jobs = board_and_bot
    queued = [await _queue(bot, jobs) for _ in range(3)]
    await board.refresh()
    for job_id, message_id in queued[:2]:
        redis.hdel(ACTIVE_KEY, job_id)  # as delivery does, before it closes the status
        await board.close(job_id, CHAT, message_id, "✅ Done.")
    redis.hdel(ACTIVE_KEY, queued[2][0])  # delivered by another replica: this board never closes it
    assert board.closed and board.locks
    await board.refresh()
    assert (board.closed, board.locks, board.shown) == (set(), {}, {})
