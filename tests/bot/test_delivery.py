"""Result delivery from the stream: acknowledged after sending, claimed again after a crash, sent once."""

import asyncio
import io
from dataclasses import replace

import pytest
from aiogram.utils.i18n import I18n
from PIL import Image
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from shopshot.bot.app import create_bot, locales_dir
from shopshot.bot.delivery import MAX_UPLOAD_BYTES, PARTS_KEY, Delivery, upload_groups
from shopshot.bot.status_board import StatusBoard
from shopshot.errors import NoProductFound
from shopshot.pipeline.gallery import sample_photo
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.events import JobEvent, ResultImage, publish
from shopshot.queue.jobs import WorkerContext
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import open_store
from shopshot.queue.worker import StudioWorker
from tests.queue.backends import Fast

CHAT = 91


@pytest.fixture
async def deliveries(settings, stand_in, redis_url, api):
    await api.send_text(CHAT, "/start")
    bot = create_bot(settings, stand_in)
    redis = AsyncRedis.from_url(redis_url)
    i18n = I18n(path=locales_dir(), default_locale="en", domain="shopshot")

    board = StatusBoard(bot, JobQueue(Redis.from_url(redis_url), settings.queue), i18n)
    blobs = open_store(Redis.from_url(redis_url), settings)

    def consumer(name: str) -> Delivery:
        return Delivery(bot, redis, settings.queue, i18n, name, board, blobs)

    yield consumer
    await redis.aclose()
    await bot.session.close()


def _done_event(redis, settings, job_id: str, files: list[bytes] | None = None) -> JobEvent:
    """A finished job of two images (or one per file given), each file the album's JPEG unless given."""
    blobs = open_store(redis, settings)
    photo = blobs.put(sample_photo())
    file_keys = [blobs.put(data) for data in files] if files else [photo, photo]
    images = [
        ResultImage(photo_key=photo, file_key=key, seed=seed, width=1200, height=1500)
        for seed, key in enumerate(file_keys, start=3)
    ]
    spec = JobSpec(
        chat_id=CHAT,
        user_id=CHAT,
        status_message_id=1,
        image_key=photo,
        preset="white",
        ratio="1:1",
        variants=len(images),
        seed=3,
        language="en",
    )
    return JobEvent("done", job_id, spec, images=images)


def _stored_png(megabytes: float) -> bytes:
    """A PNG of about that size, stored without compression so it is quick to make (flat RGB, 3 bytes a pixel)."""
    side = int((megabytes * 2**20 / 3) ** 0.5)
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (230, 225, 215)).save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def _pending(redis, settings) -> int:
    """Entries the bot's group has read and not acknowledged."""
    return redis.xpending(settings.queue.events_stream, settings.queue.events_group)["pending"]


async def _refused_uploads(api) -> list[dict]:
    return [
        call
        for call in await api.calls()
        if call["method"] in ("sendMediaGroup", "sendDocument", "sendPhoto") and not call["ok"]
    ]


async def _albums(api) -> int:
    return sum(1 for call in await api.calls("sendMediaGroup") if call["ok"]) // 2  # photos, then files


async def test_an_entry_left_by_a_crashed_consumer_is_claimed_and_delivered_once(deliveries, redis, settings, api):
    crashed, survivor = deliveries("bot-a"), deliveries("bot-b")
    await crashed.ensure_group()
    publish(redis, settings.queue.events_stream, _done_event(redis, settings, "job-1"))
    taken = await crashed.redis.xreadgroup(crashed.group, crashed.consumer, {crashed.stream: ">"}, count=10)
    assert len(taken[0][1]) == 1  # read, never acknowledged: the bot died here
    survivor.claim_idle_ms = 0
    assert await survivor.step(block_ms=10) == 1
    assert await _albums(api) == 1
    assert _pending(redis, settings) == 0


async def test_a_retried_job_publishing_twice_sends_one_album(deliveries, redis, settings, api):
    delivery = deliveries("bot-a")
    await delivery.ensure_group()
    event = _done_event(redis, settings, "job-2")
    publish(redis, settings.queue.events_stream, event)
    # publish() appends a job's event once; a second one on the stream (written by an older worker) still sends one album.
    redis.xadd(settings.queue.events_stream, event.to_fields())
    assert await delivery.step(block_ms=10) == 2
    assert await _albums(api) == 1
    messages = await api.messages(CHAT)
    assert sum("Here are your 2 images." in (m["text"] or "") for m in messages) == 1


async def test_a_failure_event_reaches_the_seller_with_a_retry_button(deliveries, redis, settings, api):
    delivery = deliveries("bot-a")
    await delivery.ensure_group()
    event = _done_event(redis, settings, "job-3")
    publish(redis, settings.queue.events_stream, JobEvent("failed", "job-3", event.spec, error=NoProductFound.code))
    await delivery.step(block_ms=10)
    last = (await api.messages(CHAT))[-1]
    assert "couldn't find a product" in last["text"]
    assert last["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "rs:retry:job-3"


async def test_a_restarted_consumer_delivers_its_own_pending_entry_at_once(deliveries, redis, settings, api):
    before = deliveries("bot-host")
    await before.ensure_group()
    publish(redis, settings.queue.events_stream, _done_event(redis, settings, "job-4"))
    await before.redis.xreadgroup(before.group, before.consumer, {before.stream: ">"}, count=10)  # killed here
    after = deliveries("bot-host")  # the same replica, started again: no 30 s idle wait for XAUTOCLAIM
    assert after.claim_idle_ms >= 30_000
    assert await after.resume() == 1
    assert await _albums(api) == 1
    assert _pending(redis, settings) == 0


async def test_a_delivery_cut_off_after_the_album_resumes_with_the_files(deliveries, redis, settings, api):
    delivery = deliveries("bot-host")
    await delivery.ensure_group()
    publish(redis, settings.queue.events_stream, _done_event(redis, settings, "job-5"))
    await api.inject_fault("sendMediaGroup", status=200, retry_after=None)  # the album goes through
    # The files do not: a wait longer than the retry middleware sits out leaves the entry pending.
    await api.inject_fault("sendMediaGroup", status=429, retry_after=120)
    assert await delivery.step(block_ms=10) == 1
    assert redis.smembers(PARTS_KEY + "job-5") == {b"sending", b"photos:1"}  # the status, then the album
    assert await delivery.resume() == 1
    groups = [call for call in await api.calls("sendMediaGroup") if call["ok"]]
    assert len(groups) == 2  # the photos once, the files once
    messages = await api.messages(CHAT)
    assert sum(m["kind"] == "photo" and bool(m["media_group_id"]) for m in messages) == 2
    assert sum(m["kind"] == "document" for m in messages) == 2
    assert sum("Here are your 2 images." in (m["text"] or "") for m in messages) == 1
    assert not redis.exists(PARTS_KEY + "job-5")


async def test_results_telegram_refuses_for_good_become_a_failure_message_and_are_acknowledged(
    deliveries, redis, settings, api
):
    delivery = deliveries("bot-a")
    await delivery.ensure_group()
    publish(redis, settings.queue.events_stream, _done_event(redis, settings, "job-6"))
    await api.inject_fault("sendMediaGroup", status=400, retry_after=None)  # e.g. a photo Telegram will not take
    assert await delivery.step(block_ms=10) == 1
    last = (await api.messages(CHAT))[-1]
    assert "Telegram would not accept them" in last["text"]
    assert last["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "rs:retry:job-6"
    assert _pending(redis, settings) == 0


async def test_an_entry_the_bot_cannot_read_stays_pending_without_holding_up_the_next(deliveries, redis, settings, api):
    delivery = deliveries("bot-a")
    await delivery.ensure_group()
    redis.xadd(settings.queue.events_stream, {"event": "{not json"})
    publish(redis, settings.queue.events_stream, _done_event(redis, settings, "job-7"))
    assert await delivery.step(block_ms=10) == 2
    assert await _albums(api) == 1
    assert _pending(redis, settings) == 1


async def test_two_replicas_sharing_a_name_resume_the_same_pending_entry_and_send_one_album(
    deliveries, redis, settings, api
):
    first = deliveries("bot-host")
    await first.ensure_group()
    publish(redis, settings.queue.events_stream, _done_event(redis, settings, "job-8"))
    await first.redis.xreadgroup(first.group, first.consumer, {first.stream: ">"}, count=10)  # killed here
    # Two processes started with one INSTANCE_NAME both find the entry among their own pending ones.
    await asyncio.gather(deliveries("bot-host").resume(), deliveries("bot-host").resume())
    assert await _albums(api) == 1
    assert sum("Here are your 2 images." in (m["text"] or "") for m in await api.messages(CHAT)) == 1
    assert _pending(redis, settings) == 0


async def test_an_entry_claimed_while_a_slow_delivery_of_it_still_runs_is_left_to_that_delivery(
    deliveries, redis, settings, api
):
    slow, other = deliveries("bot-a"), deliveries("bot-b")
    await slow.ensure_group()
    publish(redis, settings.queue.events_stream, _done_event(redis, settings, "job-9"))
    await api.inject_fault("sendMediaGroup", status=429, retry_after=2)  # waited out by the retry middleware
    delivering = asyncio.create_task(slow.step(block_ms=10))
    while not await api.calls("sendMediaGroup"):  # bot-a has the entry and waits out the 429
        await asyncio.sleep(0.05)
    other.claim_idle_ms = 0  # as if the delivery had outlasted CLAIM_IDLE_MS
    while not await other.step(block_ms=10):  # XAUTOCLAIM hands the entry over while bot-a still sends it
        await asyncio.sleep(0.05)
    assert await delivering == 1
    assert await _albums(api) == 1
    assert _pending(redis, settings) == 0


def test_uploads_are_grouped_in_order_within_the_budget_and_those_over_it_left_out():
    assert upload_groups([14, 14, 14, 14], budget=50) == ([[0, 1, 2], [3]], [])
    assert upload_groups([3, 51, 3], budget=50) == ([[0, 2]], [1])
    assert upload_groups([1] * 12, budget=50) == ([list(range(10)), [10, 11]], [])  # an album holds ten


async def test_four_14_mb_files_go_in_requests_telegram_takes(deliveries, redis, settings, api):
    # Four full-resolution PNGs of a 12-MP photo at 1:1 are 56 MB: one sendMediaGroup would get 413.
    delivery = deliveries("bot-a")
    await delivery.ensure_group()
    png = _stored_png(14)
    publish(redis, settings.queue.events_stream, _done_event(redis, settings, "job-10", files=[png] * 4))
    assert await delivery.step(block_ms=10) == 1
    messages = await api.messages(CHAT)
    documents = [m for m in messages if m["kind"] == "document"]
    assert [await api.download(m["file_id"]) for m in documents] == [png] * 4
    assert sum("Here are your 4 images." in (m["text"] or "") for m in messages) == 1
    assert not await _refused_uploads(api)
    assert _pending(redis, settings) == 0


async def test_a_file_over_50_mb_is_left_out_and_the_seller_told_why(deliveries, redis, settings, api):
    delivery = deliveries("bot-a")
    await delivery.ensure_group()
    small, huge = _stored_png(1), _stored_png(51)
    assert len(huge) > MAX_UPLOAD_BYTES
    publish(redis, settings.queue.events_stream, _done_event(redis, settings, "job-11", files=[small, huge]))
    assert await delivery.step(block_ms=10) == 1
    messages = await api.messages(CHAT)
    [document] = [m for m in messages if m["kind"] == "document"]
    assert await api.download(document["file_id"]) == small
    [note] = [m["text"] for m in messages if (m["text"] or "").startswith("⚠️")]
    assert "over 50 MB" in note and "photo-white-1x1-2.png (Seed: 4)" in note
    assert "Here are your 2 images." in messages[-1]["text"]
    assert not await _refused_uploads(api)
    assert _pending(redis, settings) == 0


async def test_a_413_is_final_the_seller_is_told_and_nothing_is_uploaded_again(deliveries, redis, settings, api):
    delivery = deliveries("bot-a")
    await delivery.ensure_group()
    publish(redis, settings.queue.events_stream, _done_event(redis, settings, "job-12"))
    await api.inject_fault("sendMediaGroup", status=200, retry_after=None)  # the album goes through
    await api.inject_fault("sendMediaGroup", status=413, retry_after=None, count=5)  # the files never would
    assert await delivery.step(block_ms=10) == 1
    last = (await api.messages(CHAT))[-1]
    assert "Telegram would not accept them" in last["text"]
    assert last["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "rs:retry:job-12"
    assert [call["error_code"] for call in await api.calls("sendMediaGroup")] == [None, 413]
    assert _pending(redis, settings) == 0
    delivery.claim_idle_ms = 0
    assert await delivery.step(block_ms=10) == 0  # nothing left to claim and upload again


async def test_every_album_arrives_after_the_bot_was_down_past_the_streams_cap(deliveries, redis, settings, api):
    # Real workers publish with a cap of 4 while the bot is down for 12 jobs, one of them read and not
    # acknowledged when it went: trimming by count alone would have dropped 8 albums.
    settings = settings.model_copy(update={"queue": settings.queue.model_copy(update={"events_kept": 4})})
    before = deliveries("bot-host")
    await before.ensure_group()
    blobs = open_store(redis, settings)
    jobs = JobQueue(redis, settings.queue)
    spec = JobSpec(
        chat_id=CHAT,
        user_id=CHAT,
        status_message_id=1,
        image_key=blobs.put(sample_photo()),
        preset="white",
        ratio="1:1",
        variants=1,
        seed=3,
        language="en",
    )
    job_ids = [jobs.enqueue(spec) for _ in range(2)]
    _work(redis, settings)  # in this thread: RQ sets signal handlers; nothing on the loop needs it meanwhile
    await before.redis.xreadgroup(before.group, before.consumer, {before.stream: ">"}, count=1)  # then killed
    job_ids += [jobs.enqueue(spec) for _ in range(10)]
    _work(redis, settings)  # in this thread: RQ sets signal handlers; nothing on the loop needs it meanwhile
    assert redis.xlen(settings.queue.events_stream) == 12
    after = deliveries("bot-host")
    await after.resume()
    while await after.step(block_ms=10):
        pass
    sent = [call for call in await api.calls("sendPhoto") if call["ok"]]
    assert len(sent) == 12 and all(redis.exists(f"shopshot:delivered:{job_id}") for job_id in job_ids)
    assert _pending(redis, settings) == 0
    jobs.enqueue(spec)
    _work(redis, settings)  # in this thread: RQ sets signal handlers; nothing on the loop needs it meanwhile
    assert redis.xlen(settings.queue.events_stream) <= 2  # delivered now: trimmed back to the group's last read entry


async def test_delivered_results_leave_storage_and_their_file_ids_stay(deliveries, redis, settings, api):
    delivery = deliveries("bot-a")
    await delivery.ensure_group()
    blobs = open_store(redis, settings)
    seller_photo = blobs.put_upload(sample_photo(), CHAT)
    event = _done_event(redis, settings, "job-9", files=[sample_photo(), sample_photo()])
    event = replace(event, spec=event.spec.with_changes(image_key=seller_photo))
    publish(redis, settings.queue.events_stream, event)
    await delivery.step(block_ms=10)
    assert await _albums(api) == 1
    results = [key for image in event.images for key in (image.photo_key, image.file_key)]
    assert all(blobs.size(key) is None for key in results)  # delivered_ttl_s is 0 by default
    assert blobs.get(seller_photo)  # for "Another backdrop" and "Variations"
    file_ids = await delivery.file_ids("job-9")
    assert sorted(file_ids) == ["document:0", "document:1", "photo:0", "photo:1"] and all(file_ids.values())


def _work(redis, settings) -> None:
    worker = StudioWorker(
        [JobQueue(redis, settings.queue).queue],
        connection=redis,
        context=WorkerContext(settings=settings, backend=Fast()),
    )
    worker.work(burst=True)
