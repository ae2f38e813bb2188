"""The ledger on a real Redis: every movement written down, the balance never below zero, each
payment credited once and each job charged at most once, whatever arrives twice or at once."""

import asyncio

import pytest
from redis.asyncio import Redis

from shopshot.billing.ledger import Ledger, Wallet
from shopshot.billing.prices import Charge
from shopshot.errors import NotEnoughCredits
from tests.billing.invariant import assert_ledger_sums

USER = 501


@pytest.fixture
async def ledger(redis_url):
    client = Redis.from_url(redis_url)
    yield Ledger(client, free_images=3)
    await client.aclose()


async def test_a_new_seller_holds_free_images_first_then_credits(ledger):
    wallet = await ledger.wallet(USER)
    assert (wallet.balance, wallet.free_left) == (0, 3)
    first = await ledger.hold(Charge(USER, "job-1", images=2, price=2))
    assert (first.free, first.credits) == (2, 0)
    with pytest.raises(NotEnoughCredits) as refused:
        await ledger.hold(Charge(USER, "job-2", images=2, price=2))  # one free image left, 2 credits short
    assert refused.value.params == {"cost": 2, "balance": 0}
    await ledger.grant(USER, 5, "welcome", once="update-1")
    second = await ledger.hold(Charge(USER, "job-2", images=2, price=2))
    assert (second.free, second.credits, second.balance) == (1, 2, 3)
    assert (await ledger.wallet(USER)).free_left == 0
    await assert_ledger_sums(ledger, USER, balance=3, held=2)


async def test_a_refused_hold_writes_nothing(ledger):
    await ledger.grant(USER, 1, "test", once="u")
    with pytest.raises(NotEnoughCredits):
        await ledger.hold(Charge(USER, "big", images=10, price=1))
    assert [move.kind for move in await ledger.moves(USER, 10)] == ["grant"]
    assert await ledger.held("big") is None
    await assert_ledger_sums(ledger, USER, balance=1)


async def test_a_job_is_held_once_and_settled_once(ledger):
    await ledger.grant(USER, 10, "test", once="u")
    charge = Charge(USER, "job", images=5, price=2)  # 3 free, 2 × 2 credits
    first, again = await ledger.hold(charge), await ledger.hold(charge)
    assert first.placed and not again.placed and again.credits == first.credits == 4
    assert await ledger.capture(USER, "job") is True
    assert await ledger.capture(USER, "job") is False  # the event delivered again
    released = await ledger.release(USER, "job", "failed")  # a late failure changes nothing either
    assert released is not None and not released.released
    await assert_ledger_sums(ledger, USER, balance=6)
    assert (await ledger.totals())["credits_spent"] == 4


async def test_a_released_hold_gives_credits_and_free_images_back_once(ledger):
    await ledger.grant(USER, 4, "test", once="u")
    await ledger.hold(Charge(USER, "job", images=4, price=2))  # 3 free + 2 credits
    released = await ledger.release(USER, "job", "failed")
    assert (released.credits, released.free, released.balance, released.released) == (2, 3, 4, True)
    again = await ledger.release(USER, "job", "failed")
    assert (again.balance, again.released) == (4, False)
    assert await ledger.capture(USER, "job") is False  # nothing to spend once released
    assert await ledger.wallet(USER) == Wallet(balance=4, free_left=3)
    await assert_ledger_sums(ledger, USER, balance=4)


async def test_a_release_of_a_job_never_held_is_none(ledger):
    assert await ledger.release(USER, "free-job", "failed") is None  # billing was off when it was queued
    assert await ledger.capture(USER, "free-job") is False


async def test_a_payment_is_credited_once_by_its_charge_id(ledger):
    assert await ledger.purchase(USER, "charge-1", credits=30, stars=65, pack="m") == (True, 30)
    assert await ledger.purchase(USER, "charge-1", credits=30, stars=65, pack="m") == (False, 30)
    await assert_ledger_sums(ledger, USER, balance=30)
    assert (await ledger.totals())["stars_paid"] == 65


async def test_the_same_payment_from_many_replicas_at_once_is_credited_once(ledger, redis_url):
    clients = [Redis.from_url(redis_url) for _ in range(8)]
    try:
        ledgers = [Ledger(client, free_images=0) for client in clients]
        answers = await asyncio.gather(*(other.purchase(USER, "charge-x", 10, 25, "s") for other in ledgers))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    assert sorted(credited for credited, _ in answers) == [False] * 7 + [True]
    await assert_ledger_sums(ledger, USER, balance=10)


async def test_holds_racing_for_the_last_credits_never_take_the_balance_below_zero(ledger, redis_url):
    await ledger.grant(USER, 5, "test", once="u")
    clients = [Redis.from_url(redis_url) for _ in range(6)]
    try:
        ledgers = [Ledger(client, free_images=0) for client in clients]
        answers = await asyncio.gather(
            *(other.hold(Charge(USER, f"job-{n}", 1, 2)) for n, other in enumerate(ledgers)), return_exceptions=True
        )
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    assert sum(1 for answer in answers if isinstance(answer, NotEnoughCredits)) == 4
    await assert_ledger_sums(ledger, USER, balance=1, held=4)


async def test_a_grant_is_made_once_per_update(ledger):
    assert await ledger.grant(USER, 7, "goodwill", once="update-9") == (True, 7)
    assert await ledger.grant(USER, 7, "goodwill", once="update-9") == (False, 7)
    with pytest.raises(ValueError):
        await ledger.grant(USER, 0, "nothing", once="update-10")
    await assert_ledger_sums(ledger, USER, balance=7)


async def test_a_refund_takes_the_credits_back_or_is_refused_when_they_were_spent(ledger):
    await ledger.purchase(USER, "paid", credits=10, stars=25, pack="s")
    await ledger.hold(Charge(USER, "job", images=7, price=2))  # 3 free + 8 credits: 2 left
    refused = await ledger.begin_refund(USER, "paid")
    assert (refused.outcome, refused.credits, refused.balance) == ("spent", 10, 2)
    await ledger.release(USER, "job", "failed")
    started = await ledger.begin_refund(USER, "paid")
    assert (started.outcome, started.balance) == ("go", 0)
    await ledger.end_refund(USER, "paid", refunded=True)
    assert (await ledger.begin_refund(USER, "paid")).outcome == "refunded"
    assert (await ledger.begin_refund(USER, "never")).outcome == "unknown"
    assert (await ledger.begin_refund(USER + 1, "paid")).outcome == "unknown"  # someone else's charge
    assert (await ledger.payment("paid"))["state"] == "refunded"
    await assert_ledger_sums(ledger, USER, balance=0)
    assert (await ledger.totals())["stars_refunded"] == 25


async def test_a_refund_telegram_refused_puts_the_credits_back(ledger):
    await ledger.purchase(USER, "paid", credits=10, stars=25, pack="s")
    await ledger.begin_refund(USER, "paid")
    await ledger.end_refund(USER, "paid", refunded=False)
    assert (await ledger.payment("paid"))["state"] == "credited"
    assert [move.kind for move in await ledger.moves(USER, 5)] == ["refund_undone", "refund", "purchase"]
    await assert_ledger_sums(ledger, USER, balance=10)


async def test_a_tampered_balance_is_caught_by_the_audit(ledger, redis_url):
    await ledger.grant(USER, 3, "test", once="u")
    await ledger.redis.incrby(f"shopshot:credits:{USER}", 1)  # a write outside the scripts
    audit = await ledger.audit(USER)
    assert not audit.consistent and (audit.balance, audit.ledger_sum) == (4, 3)


async def test_a_job_given_back_before_it_was_queued_holds_anew_and_is_spent_once(ledger):
    await ledger.grant(USER, 10, "test", once="u")
    charge = Charge(USER, "job", images=5, price=2)  # 3 free, then 4 credits
    await ledger.hold(charge)
    await ledger.release(USER, "job", "not queued")  # the bot died before queueing; the seller taps Confirm again
    again = await ledger.hold(charge)
    assert again.placed and (again.credits, again.free, again.balance) == (4, 3, 6)
    assert await ledger.capture(USER, "job") is True and await ledger.capture(USER, "job") is False
    await assert_ledger_sums(ledger, USER, balance=6)
