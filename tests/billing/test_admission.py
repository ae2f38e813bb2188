"""The hold is placed in the limits' own transaction: a job is admitted with its credits held, or
neither happens, whichever replica admits it and however many confirm at once."""

import asyncio

import pytest
from redis.asyncio import Redis

from shopshot.billing.ledger import HoldStep, Ledger
from shopshot.billing.prices import Charge
from shopshot.bot.limits import IN_FLIGHT_KEY, JobLimits
from shopshot.bot.studio import Studio
from shopshot.config import LimitSettings
from shopshot.errors import NotEnoughCredits, TooManyJobs
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.store import open_store
from tests.billing.invariant import assert_ledger_sums

USER = 701
QUEUE = "rq:queue:studio"


async def _admit(redis_url: str, holder: str, job_id: str, images: int = 2):
    """One replica's Confirm: its own connection, its own limits and ledger."""
    client = Redis.from_url(redis_url)
    try:
        ledger = Ledger(client, free_images=0)
        limits = JobLimits(client, LimitSettings(jobs_in_flight=10), holder)
        return await limits.admit(USER, QUEUE, 1.0, hold=HoldStep(ledger, Charge(USER, job_id, images, 1)))
    finally:
        await client.aclose()


async def test_two_replicas_confirming_the_last_credits_at_once_admit_one_job(redis_url, ledger, figures):
    await ledger.grant(USER, 2, "test", once="grant")
    answers = await asyncio.gather(
        *(_admit(redis_url, f"replica-{n}", f"job-{n}") for n in range(2)), return_exceptions=True
    )
    admitted = [answer for answer in answers if not isinstance(answer, BaseException)]
    refused = [answer for answer in answers if isinstance(answer, NotEnoughCredits)]
    assert (len(admitted), len(refused)) == (1, 1), answers
    # The refused Confirm took no slot: only the admitted job's ticket is in flight.
    assert await ledger.redis.zcard(IN_FLIGHT_KEY + str(USER)) == 1
    await assert_ledger_sums(ledger, USER, balance=0, held=2)
    figures.set(
        "billing: replicas confirming the last credits at once, admitted/refused/overdrawn",
        f"{len(admitted)}/{len(refused)}/0",
    )


async def test_many_confirms_racing_never_overdraw(redis_url, ledger):
    await ledger.grant(USER, 7, "test", once="grant")
    answers = await asyncio.gather(
        *(_admit(redis_url, f"replica-{n % 2}", f"job-{n}") for n in range(8)), return_exceptions=True
    )
    assert sum(1 for answer in answers if not isinstance(answer, BaseException)) == 3
    assert all(isinstance(answer, NotEnoughCredits) for answer in answers if isinstance(answer, BaseException))
    await assert_ledger_sums(ledger, USER, balance=1, held=6)


async def test_a_limit_reached_holds_nothing(redis_url, ledger):
    await ledger.grant(USER, 10, "test", once="grant")
    client = Redis.from_url(redis_url)
    try:
        limits, paying = JobLimits(client, LimitSettings(jobs_in_flight=1), "replica"), Ledger(client, free_images=0)
        await limits.admit(USER, QUEUE, 1.0, hold=HoldStep(paying, Charge(USER, "first", 1, 1)))
        with pytest.raises(TooManyJobs):
            await limits.admit(USER, QUEUE, 1.0, hold=HoldStep(paying, Charge(USER, "second", 1, 1)))
    finally:
        await client.aclose()
    assert await ledger.held("second") is None
    await assert_ledger_sums(ledger, USER, balance=9, held=1)


async def test_a_hold_whose_job_never_reached_the_queue_comes_back_when_its_replica_restarts(
    redis_url, redis, settings, ledger
):
    await ledger.grant(USER, 5, "test", once="grant")
    client = Redis.from_url(redis_url)
    try:

        def studio() -> Studio:
            return Studio(settings, open_store(redis, settings), JobQueue(redis, settings.queue), client)

        dying = studio()
        charge = dying.charge_for(USER, "job-x", "backdrop", "white", 4, "studio")  # two free images, then two credits
        assert await dying.admit(USER, "studio", once="shopshot:pressed:job-x:confirm", charge=charge) is not None
        await assert_ledger_sums(ledger, USER, balance=3, held=2)
        # The bot died before queueing; the same replica, restarted, gives the slot and the hold back.
        assert await studio().release_abandoned() == 1
    finally:
        await client.aclose()
    await assert_ledger_sums(ledger, USER, balance=5, held=0)
    assert (await ledger.wallet(USER)).free_left == settings.billing.free_images
