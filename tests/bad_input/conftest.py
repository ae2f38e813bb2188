"""One running stack per test module (embedded Redis, the stand-in, the real bot), the tally of the corpus.

No worker runs here: a bad input must be answered by the bot alone and never reach the queue, which
`assert_no_worker_time` checks after every case. Each case talks as its own user.
"""

import asyncio
from dataclasses import dataclass

import pytest
import pytest_asyncio
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.utils.i18n import I18n
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from shopshot.bot.app import run_bot
from shopshot.config import STAND_IN_TOKEN, Settings
from shopshot.playground.client import StandInClient
from shopshot.playground.standin import StandIn
from shopshot.queue.enqueue import ACTIVE_KEY
from shopshot.queue.store import open_store
from tests.conftest import FIGURES
from tests.languages import DOMAIN

BOT_ID = int(STAND_IN_TOKEN.split(":")[0])


def _count_case(passed: bool) -> None:
    """One corpus case tried, and handled if it passed: the "bad inputs tried" and "… handled" figures."""
    FIGURES.add("bad inputs tried")
    FIGURES.add("bad inputs handled", int(passed))


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "corpus: a case of the bad-input corpus, counted in its figure")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # A case whose stack failed to start was tried and not handled; otherwise its call decides.
    ran = report.when == "call" or (report.when == "setup" and report.failed)
    if ran and item.get_closest_marker("corpus"):
        _count_case(report.passed)
    return report


@dataclass
class Stack:
    api: StandInClient
    redis: Redis
    settings: Settings
    i18n: I18n
    fsm: RedisStorage

    def speak(self, language: str, make):
        """Render text as the bot does for a seller of `language`."""
        with self.i18n.context(), self.i18n.use_locale(language):
            return make()

    async def image_bytes(self, user: int) -> bytes:
        """The stored upload the conversation of `user` is about: what a worker would load."""
        data = await self.fsm.get_data(StorageKey(bot_id=BOT_ID, chat_id=user, user_id=user))
        return open_store(self.redis, self.settings).get(data["image_key"])

    def assert_no_worker_time(self) -> None:
        """Nothing was queued: no RQ job, no active job, every queue empty."""
        assert not self.redis.keys("rq:job:*")
        assert self.redis.hlen(ACTIVE_KEY) == 0
        assert all(self.redis.llen(queue) == 0 for queue in self.redis.keys("rq:queue:*"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(stack_settings, stack_redis_url, compiled_locales):
    """The stand-in with the real bot polling it, shared by the module's cases."""
    server = StandIn()
    url = await server.start()
    bot = asyncio.create_task(run_bot(stack_settings, stack_redis_url, url))
    redis, fsm_redis = Redis.from_url(stack_redis_url), AsyncRedis.from_url(stack_redis_url)
    i18n = I18n(path=compiled_locales, default_locale="en", domain=DOMAIN)
    async with StandInClient(url) as client:
        yield Stack(client, redis, stack_settings, i18n, RedisStorage(fsm_redis))
    if bot.done():
        bot.result()  # a bot that died on its own fails the module with its error
    bot.cancel()
    await asyncio.gather(bot, return_exceptions=True)
    await server.stop()
    await fsm_redis.aclose()
    redis.close()
