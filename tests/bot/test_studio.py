"""The bot's studio calls: a burst of uploads is decoded a few at a time."""

import asyncio
import threading

from redis.asyncio import Redis as AsyncRedis

from shopshot.bot.studio import DECODES_AT_ONCE, Studio, kept_boxes, toggled
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.store import open_store

SENDERS = 6  # as many as asyncio.to_thread's default pool runs at once on two cores


async def test_a_burst_of_uploads_is_decoded_a_few_at_a_time(settings, redis, redis_url, monkeypatch):
    lock, everyone_inside = threading.Lock(), threading.Event()
    inside = most = 0

    def decode(data: bytes, limits, side: int) -> tuple[str, tuple[int, int]]:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
            if inside == SENDERS:
                everyone_inside.set()
        # Unbounded, all six meet here at once; bounded, each waits this out and lets the next in.
        everyone_inside.wait(1.0)
        with lock:
            inside -= 1
        return "preview", (640, 480)

    monkeypatch.setattr("shopshot.bot.studio.load_preview", decode)
    monkeypatch.setattr(
        "shopshot.bot.studio.stored_copy", lambda data, limits: data
    )  # re-encoded in the same turn as the decode
    monkeypatch.setattr("shopshot.bot.studio.prepare_product", lambda preview, keep: "product of " + preview)
    monkeypatch.setattr("shopshot.bot.studio.product_candidates", lambda preview: ())
    async_redis = AsyncRedis.from_url(redis_url)
    studio = Studio(settings, open_store(redis, settings), JobQueue(redis, settings.queue), redis=async_redis)
    try:
        accepted = await asyncio.gather(*(studio.accept_photo(b"photo %d" % owner, owner) for owner in range(SENDERS)))
    finally:
        await async_redis.aclose()
    assert most <= DECODES_AT_ONCE
    assert [(photo.width, photo.height, photo.product) for photo in accepted] == [
        (640, 480, "product of preview")
    ] * SENDERS


def test_the_kept_boxes_are_the_chosen_ones_and_all_chosen_is_the_automatic_cut_out():
    boxes = [[0.1, 0.2, 0.4, 0.7], [0.6, 0.2, 0.9, 0.8], [0.4, 0.8, 0.6, 0.95]]
    assert kept_boxes(boxes, [3, 1]) == [boxes[0], boxes[2]]
    assert kept_boxes(boxes, [1, 2, 3]) == []
    assert toggled([1, 3], 2) == [1, 2, 3] and toggled([1, 3], 3) == [1]
