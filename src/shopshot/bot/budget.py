"""One budget of Bot API calls a second for the whole bot, every replica together, kept in Redis.

Telegram lets a bot make about 30 calls a second in all and answers `429 Too Many Requests` beyond;
status edits of many jobs at once used to spend that alone. Every call but getUpdates books a moment
in a sliding window of one second (a sorted set, one Lua script on Redis's clock): at most
`calls_per_s` moments fall in any one second. A call a seller waits for (a reply, an album, a final
status) always gets its turn: with the second full it books the first free moment and sleeps until
then. A best-effort call (a progress edit, inside `best_effort()`) goes only now, only while more
than `reserve` of this second's calls are left and no call is waiting; else it is refused at once
with OverBudget. So progress edits are the first to yield, and never overtake a waiting reply.
"""

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shopshot.config import BudgetSettings

log = logging.getLogger(__name__)
BUDGET_KEY = "shopshot:telegram-budget"
# Long polling waits for updates and sends nothing: Telegram does not count it against the limit.
UNMETERED = frozenset({"GetUpdates"})
REFUSED = -1
_BEST_EFFORT: ContextVar[bool] = ContextVar("shopshot_best_effort", default=False)

# KEYS[1]: the booked moments (ms), scored by themselves. ARGV: calls a second; the reserve a
# best-effort call must leave, or "wait" for a call that books the first free moment; a unique tag.
# Answers the ms until the booked moment, or -1 (refused). Moments are booked in time order, so the
# second ending at a new one holds at most `calls_per_s` of them.
TAKE = """
redis.replicate_commands()
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
local limit = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1000)
local count = redis.call('ZCARD', KEYS[1])
local last = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2] or now)
local at = now
if ARGV[2] == 'wait' then
  if count >= limit then
    at = math.max(now, tonumber(redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')[2]) + 1000)
  end
  at = math.max(at, last)
elseif count + tonumber(ARGV[2]) >= limit or last > now then
  return -1
end
redis.call('ZADD', KEYS[1], at, at .. ':' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], at - now + 1000)
return at - now
"""


class OverBudget(Exception):
    """A best-effort Bot API call was not made: the budget is down to its reserve."""


@contextmanager
def best_effort() -> Iterator[None]:
    """Bot API calls made inside the block yield to the others: refused with OverBudget when the budget is short."""
    token = _BEST_EFFORT.set(True)
    try:
        yield
    finally:
        _BEST_EFFORT.reset(token)


class TelegramBudget:
    """The bot's calls a second against Telegram's global limit, shared by every replica on one Redis."""

    def __init__(self, redis: Redis, settings: BudgetSettings) -> None:
        self.redis = redis
        self.settings = settings

    async def spend(self) -> None:
        """Take one call for something a seller waits for; sleeps until its turn when this second's calls are spent."""
        wait_ms = await self._take("wait")
        if wait_ms > 0:
            await asyncio.sleep(wait_ms / 1000)

    async def spare(self) -> bool:
        """Take one call now for a progress edit, only if more than the reserve is left; False: skip the edit."""
        return await self._take(str(self.settings.reserve)) != REFUSED

    async def _take(self, mode: str) -> int:
        try:
            return int(
                await cast(
                    Awaitable[int],
                    self.redis.eval(TAKE, 1, BUDGET_KEY, self.settings.calls_per_s, mode, secrets.token_hex(6)),
                )
            )
        except RedisError as error:
            # Without Redis the replies still go (Telegram answers 429s, which are retried); progress waits.
            log.warning(
                "Telegram budget unavailable (%s): %s",
                error,
                "call made unmetered" if mode == "wait" else "edit skipped",
            )
            return 0 if mode == "wait" else REFUSED


class BudgetMiddleware(BaseRequestMiddleware):
    """Request middleware: each Bot API call (each retry too) takes its unit from the bot's budget first."""

    def __init__(self, budget: TelegramBudget) -> None:
        self.budget = budget

    async def __call__(self, make_request: NextRequestMiddlewareType, bot: Bot, method: TelegramMethod) -> Response:
        if type(method).__name__ not in UNMETERED:
            if not _BEST_EFFORT.get():
                await self.budget.spend()
            elif not await self.budget.spare():
                raise OverBudget(type(method).__name__)
        return await make_request(bot, method)
