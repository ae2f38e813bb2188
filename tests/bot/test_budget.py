"""The bot's one budget of Bot API calls: progress edits yield, the rest wait their turn, Telegram's limit holds."""

import asyncio

import pytest
from redis.asyncio import Redis

from bench.budget import busiest_second, flood
from shopshot.bot.budget import BUDGET_KEY, TelegramBudget
from shopshot.config import BudgetSettings
from tests.conftest import until


@pytest.fixture
async def async_redis(redis_url):
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_progress_edits_stop_at_the_reserve_and_never_overtake_a_waiting_reply(async_redis, redis):
    budget = TelegramBudget(async_redis, BudgetSettings(calls_per_s=4, reserve=2))
    assert [await budget.spare(), await budget.spare(), await budget.spare()] == [True, True, False]
    await budget.spend()
    await budget.spend()  # the reserve: replies take it at once
    waiting = asyncio.create_task(budget.spend())  # this second is full: it books the first free moment
    await until(lambda: redis.zcard(BUDGET_KEY) == 5, what="the reply's booking")
    assert await budget.spare() is False
    await asyncio.wait_for(waiting, 10)


async def test_every_replica_draws_on_one_budget_that_expires_when_idle(async_redis, redis_url):
    settings = BudgetSettings(calls_per_s=3, reserve=0)
    other = Redis.from_url(redis_url)
    try:
        replicas = [TelegramBudget(async_redis, settings), TelegramBudget(other, settings)]
        assert [await replicas[n % 2].spare() for n in range(4)] == [True, True, True, False]
    finally:
        await other.aclose()
    assert 0 < await async_redis.pttl(BUDGET_KEY) <= 1000


def test_the_busiest_second_counts_any_second_not_whole_ones():
    assert busiest_second([0.5, 0.9, 1.1, 1.4, 2.6]) == 4 and busiest_second([]) == 0


async def test_status_edits_of_many_jobs_stay_within_telegrams_limit(settings, redis_url, api, figures):
    # 24 jobs whose text changes at every refresh ask for 12 edits a second, in bursts of 24, against
    # a budget of 12 calls a second, 3 of them kept for replies: without the budget, 429s.
    budgeted = settings.model_copy(update={"budget": BudgetSettings(calls_per_s=12, reserve=3)})
    result = await flood(budgeted, redis_url, api, jobs=24, seconds=6, limit=20)
    figures.set(
        "budget: busiest second of 24 jobs' status edits, limit 20/s (edits/all calls/429s)",
        f"{result.edits_peak}/{result.calls_peak}/{result.refused}",
    )
    assert result.refused == 0
    assert min(result.edits_per_job) >= 1  # coalesced, not starved: every job's status moved
