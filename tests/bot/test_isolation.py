"""The per-seller isolation lock: held past its timeout while its handler runs, by renewal."""

import asyncio

from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from redis.asyncio import Redis as AsyncRedis

from shopshot.bot import isolation
from shopshot.bot.isolation import RenewedEventIsolation

KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)


async def test_a_living_handler_keeps_the_lock_past_its_timeout(redis_url, monkeypatch):
    monkeypatch.setattr(isolation, "LOCK_S", 1.5)
    monkeypatch.setattr(isolation, "RENEW_EVERY_S", 0.3)
    client = AsyncRedis.from_url(redis_url)
    events: list[str] = []
    first_in = asyncio.Event()

    async def long_handler() -> None:
        async with RenewedEventIsolation(client).lock(KEY):
            events.append("first in")
            first_in.set()
            await asyncio.sleep(2.5 * isolation.LOCK_S)
            events.append("first out")

    async def next_update() -> None:
        await first_in.wait()
        async with RenewedEventIsolation(client).lock(KEY):  # as another replica would
            events.append("second in")

    try:
        await asyncio.gather(long_handler(), next_update())
        assert events == ["first in", "first out", "second in"]
        assert not await client.exists(DefaultKeyBuilder().build(KEY, "lock"))  # released, not left to lapse
    finally:
        await client.aclose()
