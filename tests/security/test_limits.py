"""Per-seller limits: the rules, their ledger under a burst from two replicas, and the bot's answer."""

import asyncio

import pytest
from redis.asyncio import Redis as AsyncRedis
from rq.job import Job

from shopshot.bot.callbacks import Step
from shopshot.bot.limits import (
    HELD_KEY,
    IN_FLIGHT_KEY,
    RESERVATION_S,
    TICKET,
    JobLimits,
    Ticket,
    Usage,
    check,
    is_stale,
)
from shopshot.config import LimitSettings
from shopshot.errors import QueueFull, TooManyJobs, TooManyPerMinute
from shopshot.queue.spec import JobSpec
from tests.conftest import until
from tests.security.conftest import at_summary, waiting_jobs

LIMITS = LimitSettings(jobs_in_flight=2, jobs_per_minute=3, queue_cap=5)
QUEUE = "rq:queue:studio"
NOW = 1_000_000.0


def test_each_limit_says_why_and_when_to_try_again():
    check(LIMITS, Usage(1, (NOW - 70, NOW - 50, NOW - 5), 4, 8.0), NOW)  # one start left the window
    with pytest.raises(TooManyJobs) as error:
        check(LIMITS, Usage(2, (), 0, 8.0), NOW)
    assert error.value.params == {"count": 2}
    with pytest.raises(TooManyPerMinute) as error:
        check(LIMITS, Usage(0, (NOW - 50, NOW - 20, NOW - 5), 0, 8.0), NOW)
    assert error.value.params == {"count": 3, "seconds": 10}  # when the start 50 s ago leaves the minute
    with pytest.raises(QueueFull) as error:
        check(LIMITS, Usage(0, (), 5, 7.2), NOW)
    assert error.value.params == {"count": 5, "seconds": 8}


def test_a_slot_is_freed_by_delivery_or_by_a_ticket_never_queued():
    assert not is_stale("job-1", NOW - 3600, active=True, now=NOW)
    assert is_stale("job-1", NOW, active=False, now=NOW)
    assert not is_stale(TICKET + "a", NOW - RESERVATION_S + 1, active=False, now=NOW)
    assert is_stale(TICKET + "a", NOW - RESERVATION_S - 1, active=False, now=NOW)


async def _burst(redis_url: str, limits: LimitSettings, taps: int, user: int = 7) -> list:
    # Two ledgers on their own connections: two bot replicas taking the same seller's taps at once.
    clients = [AsyncRedis.from_url(redis_url) for _ in range(2)]
    try:
        replicas = [JobLimits(client, limits, f"replica-{number}") for number, client in enumerate(clients)]
        return await asyncio.gather(
            *(replicas[tap % 2].admit(user, QUEUE, 5.0) for tap in range(taps)), return_exceptions=True
        )
    finally:
        for client in clients:
            await client.aclose()


async def test_a_restarted_replica_gives_back_only_its_tickets_that_never_got_a_job(redis_url):
    client = AsyncRedis.from_url(redis_url)
    roomy = LimitSettings(jobs_in_flight=5, jobs_per_minute=5, queue_cap=5)
    ours, theirs = JobLimits(client, roomy, "bot-a"), JobLimits(client, roomy, "bot-b")
    try:
        lost = await ours.admit(7, QUEUE, 5.0, once="once:lost")  # the bot died before queueing its job
        bound = await ours.admit(7, QUEUE, 5.0, once="once:bound")
        other = await theirs.admit(7, QUEUE, 5.0, once="once:other")  # another replica's, in flight
        await ours.bind(bound, "job-1")  # queued: the bot died before settling the ticket
        assert await ours.release_abandoned() == 1
        ledger = {member.decode() for member in await client.zrange(IN_FLIGHT_KEY + "7", 0, -1)}
        assert ledger == {"job-1", other.member} and lost.member not in ledger
        assert [await client.exists(key) for key in ("once:lost", "once:bound", "once:other")] == [0, 1, 1]
        assert not await client.exists(HELD_KEY + "bot-a") and await ours.release_abandoned() == 0
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("limits", "refusal"),
    [
        (LimitSettings(jobs_in_flight=2, jobs_per_minute=100, queue_cap=100), TooManyJobs),
        (LimitSettings(jobs_in_flight=100, jobs_per_minute=3, queue_cap=100), TooManyPerMinute),
    ],
)
async def test_a_burst_of_taps_on_two_replicas_gets_exactly_the_limit(redis_url, limits, refusal, figures):
    results = await _burst(redis_url, limits, taps=40)
    admitted = [result for result in results if isinstance(result, Ticket)]
    assert len(admitted) == min(limits.jobs_in_flight, limits.jobs_per_minute)
    assert all(isinstance(result, refusal) for result in results if not isinstance(result, Ticket))
    figures.add("limits: burst taps tried", len(results))
    figures.add("limits: burst taps admitted", len(admitted))


async def test_one_seller_is_held_at_the_limit_while_another_gets_through(start_bot, api, redis):
    start_bot(limits=LimitSettings(jobs_in_flight=1, jobs_per_minute=6, queue_cap=2))
    greedy, other, late = 601, 602, 603
    await _confirm(api, greedy)
    await until(lambda: len(waiting_jobs(redis)) == 1)
    second = await _confirm(api, greedy)
    refusal = await api.wait_for(
        greedy,
        _last_saying(
            "Jobs in progress: 1, the most you can have at once. You can start another as soon as one is finished."
        ),
    )
    assert refusal["message_id"] > second["message_id"]
    # Refused before anything changed: the summary keeps its Confirm for a later try.
    assert _current(await api.messages(greedy), second)["reply_markup"] == second["reply_markup"]
    await _confirm(api, other)
    await until(lambda: len(waiting_jobs(redis)) == 2)
    await _confirm(api, late)
    await api.wait_for(late, _last_saying("The studio is very busy (jobs waiting: 2). Please try again in 5 s."))
    owners = {JobSpec.from_json(Job.fetch(job_id, connection=redis).args[0]).user_id for job_id in waiting_jobs(redis)}
    assert owners == {greedy, other}


async def _confirm(api, user: int) -> dict:
    summary = await at_summary(api, user)
    await api.press(user, summary["message_id"], data=Step(action="confirm").pack())
    return summary


def _last_saying(text: str):
    return lambda messages: messages[-1] if messages[-1]["text"] == text else None


def _current(messages: list[dict], message: dict) -> dict:
    return next(m for m in messages if m["message_id"] == message["message_id"])


async def test_a_confirm_whose_status_message_fails_gives_its_slot_back(start_bot, api, redis):
    start_bot(limits=LimitSettings(jobs_in_flight=1, jobs_per_minute=6, queue_cap=2))
    user = 604
    summary = await at_summary(api, user)
    await api.inject_fault("sendMessage", status=400, retry_after=None)  # the "⏳ Queued…" status message
    await api.press(user, summary["message_id"], data=Step(action="confirm").pack())
    await api.wait_for(user, _last_saying("Something went wrong while making your images. Please try again."))
    assert not waiting_jobs(redis)
    # The slot, and the summary's one Confirm, are free again: the same button queues the job.
    await api.press(user, summary["message_id"], data=Step(action="confirm").pack())
    await until(lambda: len(waiting_jobs(redis)) == 1, what="the job queued by the second tap")
