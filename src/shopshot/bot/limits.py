"""Per-seller job limits: jobs in flight, jobs a minute, and how full a queue may get.

`check` is the rule, a plain function over a `Usage` snapshot. `JobLimits` reads that snapshot from
Redis and records the admitted job in one optimistic transaction (WATCH … MULTI): a burst of taps,
or the same seller on two bot replicas, cannot slip in between the check and the record.

Limits count images, not jobs: each photo to render holds a slot and is a start. A batch of `count`
photos is admitted at once or not at all, against `batch_photos` rather than the tighter single-photo
limits (the seller asked for all of them in one send), so a batch fills the seller's room: no other job
fits beside thirty photos in flight, nor in the minute they were started.

A job that costs credits is held in that same transaction (`hold`, the ledger's HoldStep): its
balance is watched and checked with the limits, and its hold script runs inside MULTI, so a job is
admitted with its credits held or not at all. A batch holds one charge per photo in the same way:
all of them with all the slots, or none.

Each replica also lists the tickets it holds. A ticket outlives its handler only when the bot process
dies before queueing the job; the same replica, restarted, gives those back (with their one-shot
buttons) before it takes updates again. RESERVATION_S frees those of a replica that never returns.
"""

import json
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import WatchError

from shopshot.billing.ledger import HoldStep
from shopshot.config import LimitSettings
from shopshot.errors import QueueFull, TooManyJobs, TooManyPerMinute
from shopshot.queue.enqueue import active_specs_in

WINDOW_S = 60
# A slot taken for a job that never reached the queue (the bot died in between) frees itself, should
# its replica not come back to give it back sooner.
RESERVATION_S = 120
LEDGER_TTL_S = 24 * 3600
IN_FLIGHT_KEY = "shopshot:in-flight:"
STARTS_KEY = "shopshot:starts:"
HELD_KEY = "shopshot:tickets:"  # a hash per bot replica: its tickets not yet bound to a job
TICKET = "ticket:"


@dataclass(frozen=True)
class Usage:
    """What the limits look at, read in one moment."""

    in_flight: int  # this seller's jobs queued or running
    starts: tuple[float, ...]  # when this seller's jobs were admitted (epoch seconds)
    waiting: int  # jobs waiting in the target queue, all sellers together
    job_s: float  # a typical job's duration, for the queue's wait


@dataclass(frozen=True)
class Ticket:
    """Slots taken for one job, or for each photo of a batch (`count`): bound to the jobs once queued, released if queueing failed."""

    user_id: int
    member: str
    once: str | None = None
    count: int = 1
    job_ids: tuple[str, ...] = ()  # the jobs whose credits were held with the slots (one, or a batch's photos), if any

    @property
    def members(self) -> list[str]:
        """The ledger entries the ticket holds, one per image."""
        return [self.member] if self.count == 1 else [f"{self.member}:{number}" for number in range(self.count)]


def check(limits: LimitSettings, usage: Usage, now: float, count: int = 1) -> None:
    """Raise the limit `count` more images would break (one job, or a batch's photos); each error says when to try again."""
    in_flight_cap, minute_cap = (
        (limits.jobs_in_flight, limits.jobs_per_minute) if count == 1 else (limits.batch_photos, limits.batch_photos)
    )
    if usage.in_flight + count > in_flight_cap:
        raise TooManyJobs(count=usage.in_flight)
    recent = sorted(start for start in usage.starts if start > now - WINDOW_S)
    if len(recent) + count > minute_cap:
        # The start that must leave the window before `count` more fit (a batch larger than the cap never fits).
        frees_at = recent[min(len(recent) - 1, max(0, len(recent) + count - minute_cap - 1))] + WINDOW_S
        raise TooManyPerMinute(count=len(recent), seconds=max(1, math.ceil(frees_at - now)))
    if usage.waiting >= limits.queue_cap:
        raise QueueFull(count=usage.waiting, seconds=max(1, math.ceil(usage.job_s)))


def is_stale(member: str, admitted: float, active: bool, now: float) -> bool:
    """True for an in-flight entry that no longer holds a slot: a delivered job or an unused ticket."""
    if member.startswith(TICKET):
        return admitted < now - RESERVATION_S
    return not active


class JobLimits:
    """The limits' ledger in Redis, shared by every bot replica."""

    def __init__(self, redis: Redis, limits: LimitSettings, holder: str) -> None:
        self.redis = redis
        self.limits = limits
        self.held = HELD_KEY + holder

    async def admit(
        self,
        user_id: int,
        queue_key: str,
        job_s: float,
        once: str | None = None,
        count: int = 1,
        hold: HoldStep | None = None,
    ) -> Ticket | None:
        """Take slots for one job (or a batch of `count` photos), holding its credits, or raise a LimitReached
        (NotEnoughCredits); None when `once` was already used (a replay)."""
        in_flight, starts = IN_FLIGHT_KEY + str(user_id), STARTS_KEY + str(user_id)
        ticket = Ticket(user_id, TICKET + secrets.token_hex(8), once, count, hold.job_ids if hold else ())
        slots = {member: 0.0 for member in ticket.members}
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(in_flight, starts, *filter(None, [once]), *(hold.keys if hold else ()))
                    if once and await pipe.exists(once):
                        return None
                    now = time.time()
                    stale = await self._stale(pipe, in_flight, now)
                    held = await cast(Awaitable[int], pipe.zcard(in_flight)) - len(stale)
                    recent = await pipe.zrangebyscore(starts, now - WINDOW_S, "+inf", withscores=True)
                    check(
                        self.limits,
                        Usage(
                            held,
                            tuple(score for _, score in recent),
                            await cast(Awaitable[int], pipe.llen(queue_key)),
                            job_s,
                        ),
                        now,
                        count,
                    )
                    if hold:
                        await hold.check(pipe)
                    pipe.multi()
                    if stale:
                        pipe.zrem(in_flight, *stale)
                    slots = dict.fromkeys(slots, now)
                    pipe.zadd(in_flight, slots)
                    pipe.expire(in_flight, LEDGER_TTL_S)
                    pipe.zadd(starts, slots)
                    pipe.zremrangebyscore(starts, 0, now - WINDOW_S)
                    pipe.expire(starts, WINDOW_S)
                    if once:
                        pipe.set(once, 1, ex=LEDGER_TTL_S)
                    pipe.hset(self.held, ticket.member, json.dumps([user_id, once, count, list(ticket.job_ids)]))
                    pipe.expire(self.held, LEDGER_TTL_S)
                    if hold:
                        await hold.stage(pipe)
                    await pipe.execute()
                    return ticket
                except WatchError:
                    continue

    async def _stale(self, pipe, in_flight: str, now: float) -> list[str]:
        entries = [(member.decode(), score) for member, score in await pipe.zrange(in_flight, 0, -1, withscores=True)]
        if not entries:
            return []
        active = await active_specs_in(pipe, [member for member, _ in entries])
        return [
            member
            for (member, admitted), job in zip(entries, active)
            if is_stale(member, admitted, job is not None, now)
        ]

    async def bind(self, ticket: Ticket, *job_ids: str) -> None:
        """The ticket's jobs are queued (one per image): each holds its slot until its result has been taken for delivery."""
        key = IN_FLIGHT_KEY + str(ticket.user_id)
        # Removing the ticket may empty the set, and Redis then deletes it: the ZADD makes a new key, without a TTL.
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(key, *ticket.members)
        pipe.zadd(key, dict.fromkeys(job_ids, time.time()))
        pipe.expire(key, LEDGER_TTL_S)
        await pipe.execute()

    async def settle(self, ticket: Ticket) -> None:
        """The ticket is bound to its job: this replica no longer holds it."""
        await cast(Awaitable[int], self.redis.hdel(self.held, ticket.member))

    async def release(self, ticket: Ticket) -> None:
        """No job will come of the ticket (queueing failed, or its bot died): give back the slot, the minute's start, the button."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(IN_FLIGHT_KEY + str(ticket.user_id), *ticket.members)
        pipe.zrem(STARTS_KEY + str(ticket.user_id), *ticket.members)
        if ticket.once:
            pipe.delete(ticket.once)
        pipe.hdel(self.held, ticket.member)
        await pipe.execute()

    async def forget(self, user_id: int, running: list[str]) -> None:
        """A seller's /forget: drop their jobs from the ledger, but those still running and the tickets about to be bound."""
        key = IN_FLIGHT_KEY + str(user_id)
        members = [member.decode() for member in await self.redis.zrange(key, 0, -1)]
        gone = [member for member in members if not member.startswith(TICKET) and member not in running]
        if gone:
            await self.redis.zrem(key, *gone)

    async def free(self, user_id: int, job_ids: list[str]) -> None:
        """Jobs taken off the queue before they ran: their slots are free again; the minute's starts stay, as after /forget."""
        await self.redis.zrem(IN_FLIGHT_KEY + str(user_id), *job_ids)

    async def release_abandoned(self, on_release: Callable[[Ticket], Awaitable[None]] | None = None) -> int:
        """At start-up: give back the tickets this replica took before it died, where no job came of them
        (`on_release` is told of each, to give back its held credits); return how many."""
        released = 0
        for member, entry in (await cast(Awaitable[dict[bytes, bytes]], self.redis.hgetall(self.held))).items():
            # Written without a count (before batches), without job ids (before billing) or with one job id (before batches were charged).
            fields = json.loads(entry)
            user_id, once, count, job_ids = [*fields, *[1, None][len(fields) - 2 :]][:4]
            ticket = Ticket(
                user_id, member.decode(), once, count, (job_ids,) if isinstance(job_ids, str) else tuple(job_ids or ())
            )
            # Still in the ledger: never bound. Gone from it: bound (the bot died before settling) or already freed.
            if await self.redis.zscore(IN_FLIGHT_KEY + str(user_id), ticket.members[0]) is not None:
                await self.release(ticket)
                if on_release:
                    await on_release(ticket)
                released += 1
            else:
                await self.settle(ticket)
        return released
