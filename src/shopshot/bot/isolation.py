"""Per-seller isolation of updates whose Redis lock a dead bot process gives up within seconds.

aiogram's `RedisEventIsolation` holds each lock for 60 s: a bot killed inside a handler leaves that
seller unanswered for the rest of the minute, even after it is back. Here the lock lasts LOCK_S and
the living holder renews it while its handler runs, so only a dead holder lets it lapse.
"""

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, DefaultKeyBuilder, KeyBuilder, StorageKey
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, LockNotOwnedError, RedisError

log = logging.getLogger(__name__)

LOCK_S = 5.0
RENEW_EVERY_S = LOCK_S / 3  # two renewals may fail (a Redis blip) before the lock lapses


class RenewedEventIsolation(BaseEventIsolation):
    """One update of a seller at a time, on every replica, under a short lock its holder keeps renewing."""

    def __init__(self, redis: Redis, key_builder: KeyBuilder | None = None) -> None:
        self.redis = redis
        self.key_builder = key_builder or DefaultKeyBuilder()

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        lock = self.redis.lock(self.key_builder.build(key, "lock"), timeout=LOCK_S, lock_class=Lock)
        await lock.acquire()
        renewal = asyncio.create_task(_renew(lock))
        try:
            yield None
        finally:
            renewal.cancel()
            await asyncio.gather(renewal, return_exceptions=True)
            await _release(lock)

    async def close(self) -> None:
        pass  # the Redis client belongs to the FSM storage, which closes it


async def _renew(lock: Lock) -> None:
    while True:
        await asyncio.sleep(RENEW_EVERY_S)
        try:
            await lock.reacquire()
        except LockNotOwnedError:
            # The loop stalled past LOCK_S (or Redis lost the key): another update of this seller may run beside this one.
            log.warning("lost a seller's isolation lock while its handler ran")
            return
        except RedisError as error:
            log.warning("could not renew a seller's isolation lock: %s", error)


async def _release(lock: Lock) -> None:
    try:
        await lock.release()
    except LockError:
        log.warning("a seller's isolation lock had lapsed before its handler finished")
