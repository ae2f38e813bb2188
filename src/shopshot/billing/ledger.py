"""Every seller's credits in Redis, moved only by the Lua scripts below, each movement written down.

A seller's balance is one integer key (the credits they may spend); each movement of it, and of the
free monthly allowance, is appended to the seller's own stream (`moves`), never edited: `amount` is
the change to the balance, `free` the change to the month's free images used. So the stream sums to
the balance at every moment (`audit`), and a script that refuses changes neither.

Each script runs whole or not at all, and keys its effect by what may arrive twice:
- a purchase by Telegram's `telegram_payment_charge_id` (a redelivered successful_payment credits once);
- a hold, its capture and its release by the job id (a job is charged at most once, released at most
  once; a job whose hold was given back before it was queued, and whose Confirm is tapped again, holds anew);
  a batch holds one job per photo, all in one transaction (`HoldStep`);
- an admin's grant by the update it came in.
A hold takes the month's free images first, then credits; its capture (results delivered) spends
them, its release (the job failed, was cancelled or forgotten) gives both back. The holds not settled
yet are indexed by when they were placed (OPEN_KEY), for the sweep of abandoned holds (bot/holds.py).
"""

import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from shopshot.billing.prices import Charge, month_of, split_cost
from shopshot.errors import NotEnoughCredits

CREDITS_KEY = "shopshot:credits:"  # per seller: the balance, an integer
FREE_KEY = "shopshot:free-used:"  # per seller: a hash, month (YYYY-MM) -> free images used
MOVES_KEY = "shopshot:ledger:"  # per seller: the stream of movements
HOLD_KEY = "shopshot:hold:"  # per job: a hash, what its hold took and where it stands
PAYMENT_KEY = "shopshot:payment:"  # per Telegram charge: a hash, what it credited and where it stands
GRANTED_KEY = "shopshot:granted:"  # per admin update: that its grant was made
OPEN_KEY = (
    "shopshot:holds-open"  # all sellers: a sorted set, the job ids of holds not settled, by when they were placed
)
TOTALS_KEY = "shopshot:billing-totals"  # all sellers: Stars paid and refunded, credits sold, granted, spent
STARS_SEEN_KEY = "shopshot:stars-seen"  # how many of the bot's Star transactions were gone through (bot/stars.py)
# A settled hold is kept this long, so a job's event delivered again within it changes nothing.
SETTLED_TTL_S = 90 * 24 * 3600
FREE_TTL_S = 400 * 24 * 3600
GRANTED_TTL_S = 30 * 24 * 3600

# Lua 5.1 writes -0 for the negation of 0, hence "0 - n" throughout.
_HOLD = """
local balance = tonumber(redis.call('GET', KEYS[1]) or '0')
local state = redis.call('HGET', KEYS[3], 'state')
if state and state ~= 'released' then
  return {0, tonumber(redis.call('HGET', KEYS[3], 'credits')), tonumber(redis.call('HGET', KEYS[3], 'free')), balance}
end
local images, price, allowance = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local used = tonumber(redis.call('HGET', KEYS[2], ARGV[5]) or '0')
local free = math.min(images, math.max(allowance - used, 0))
local credits = (images - free) * price
if credits > balance then
  return {-1, credits, free, balance}
end
if credits > 0 then redis.call('DECRBY', KEYS[1], credits) end
if free > 0 then
  redis.call('HINCRBY', KEYS[2], ARGV[5], free)
  redis.call('EXPIRE', KEYS[2], ARGV[8])
end
redis.call('PERSIST', KEYS[3])
redis.call('HSET', KEYS[3], 'state', 'held', 'user', ARGV[7], 'credits', credits, 'free', free, 'month', ARGV[5],
  'images', images, 'at', ARGV[6], 'batch', ARGV[9])
redis.call('ZADD', KEYS[5], ARGV[6], ARGV[1])
redis.call('XADD', KEYS[4], '*', 'kind', 'hold', 'amount', 0 - credits, 'free', free, 'month', ARGV[5], 'ref', ARGV[1], 'at', ARGV[6])
return {1, credits, free, balance - credits}
"""

_CAPTURE = """
if redis.call('HGET', KEYS[1], 'state') ~= 'held' then return 0 end
local credits = tonumber(redis.call('HGET', KEYS[1], 'credits'))
redis.call('HSET', KEYS[1], 'state', 'captured')
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('XADD', KEYS[2], '*', 'kind', 'capture', 'amount', 0, 'spent', credits, 'free', 0, 'ref', ARGV[1], 'at', ARGV[2])
redis.call('HINCRBY', KEYS[3], 'credits_spent', credits)
redis.call('HINCRBY', KEYS[3], 'free_images_spent', tonumber(redis.call('HGET', KEYS[1], 'free')))
return 1
"""

_RELEASE = """
local balance = tonumber(redis.call('GET', KEYS[2]) or '0')
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {-1, 0, 0, balance} end
local credits = tonumber(redis.call('HGET', KEYS[1], 'credits'))
local free = tonumber(redis.call('HGET', KEYS[1], 'free'))
if state ~= 'held' then return {0, credits, free, balance} end
local month = redis.call('HGET', KEYS[1], 'month')
if credits > 0 then balance = redis.call('INCRBY', KEYS[2], credits) end
if free > 0 then redis.call('HINCRBY', KEYS[3], month, 0 - free) end
redis.call('HSET', KEYS[1], 'state', 'released')
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('XADD', KEYS[4], '*', 'kind', 'release', 'amount', credits, 'free', 0 - free, 'month', month,
  'ref', ARGV[1], 'reason', ARGV[2], 'at', ARGV[3])
return {1, credits, free, balance}
"""

_PURCHASE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, tonumber(redis.call('GET', KEYS[2]) or '0')}
end
redis.call('HSET', KEYS[1], 'user', ARGV[5], 'credits', ARGV[2], 'stars', ARGV[3], 'pack', ARGV[4], 'state', 'credited', 'at', ARGV[6])
local balance = redis.call('INCRBY', KEYS[2], ARGV[2])
redis.call('XADD', KEYS[3], '*', 'kind', 'purchase', 'amount', ARGV[2], 'free', 0, 'stars', ARGV[3],
  'ref', ARGV[1], 'reason', ARGV[4], 'at', ARGV[6])
redis.call('HINCRBY', KEYS[4], 'stars_paid', ARGV[3])
redis.call('HINCRBY', KEYS[4], 'credits_sold', ARGV[2])
return {1, balance}
"""

_GRANT = """
if redis.call('SET', KEYS[3], 1, 'NX', 'EX', ARGV[5]) == false then
  return {0, tonumber(redis.call('GET', KEYS[1]) or '0')}
end
local balance = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], '*', 'kind', 'grant', 'amount', ARGV[1], 'free', 0, 'ref', ARGV[3], 'reason', ARGV[2], 'at', ARGV[4])
redis.call('HINCRBY', KEYS[4], 'credits_granted', ARGV[1])
return {1, balance}
"""

# The first half of a refund, before Telegram is asked: the credits leave the balance (refused if they
# were spent), the payment is marked "refunding". The second half marks it refunded, or puts the credits back.
_REFUND_BEGIN = """
local balance = tonumber(redis.call('GET', KEYS[2]) or '0')
local state = redis.call('HGET', KEYS[1], 'state')
if not state or redis.call('HGET', KEYS[1], 'user') ~= ARGV[2] then return {-1, 0, balance} end
local credits = tonumber(redis.call('HGET', KEYS[1], 'credits'))
if state == 'refunded' then return {-2, credits, balance} end
if state == 'refunding' then return {2, credits, balance} end
if credits > balance then return {-3, credits, balance} end
balance = redis.call('DECRBY', KEYS[2], credits)
redis.call('HSET', KEYS[1], 'state', 'refunding')
redis.call('XADD', KEYS[3], '*', 'kind', 'refund', 'amount', 0 - credits, 'free', 0, 'ref', ARGV[1], 'at', ARGV[3])
return {1, credits, balance}
"""

_REFUND_END = """
if redis.call('HGET', KEYS[1], 'state') ~= 'refunding' then return 0 end
if ARGV[1] == 'done' then
  redis.call('HSET', KEYS[1], 'state', 'refunded')
  redis.call('HINCRBY', KEYS[4], 'stars_refunded', redis.call('HGET', KEYS[1], 'stars'))
  return 1
end
local credits = redis.call('HGET', KEYS[1], 'credits')
redis.call('INCRBY', KEYS[2], credits)
redis.call('HSET', KEYS[1], 'state', 'credited')
redis.call('XADD', KEYS[3], '*', 'kind', 'refund_undone', 'amount', credits, 'free', 0, 'ref', ARGV[2], 'at', ARGV[3])
return 1
"""


@dataclass(frozen=True)
class Hold:
    """What a job's hold took: `free` images of the month's allowance and `credits`; `balance` after it."""

    job_id: str
    credits: int
    free: int
    balance: int
    placed: bool = True  # False: the job held before (a replay), nothing more was taken


@dataclass(frozen=True)
class Release:
    """What a job's release gave back; `released` False when it was settled before (nothing moved again)."""

    credits: int
    free: int
    balance: int
    released: bool


def together(releases: list[Release | None]) -> Release | None:
    """What several jobs' releases gave back, as one (a batch's); the balance after the last; None when none held anything."""
    done = [release for release in releases if release is not None]
    if not done:
        return None
    return Release(
        sum(r.credits for r in done), sum(r.free for r in done), done[-1].balance, any(r.released for r in done)
    )


@dataclass(frozen=True)
class OpenHold:
    """A hold not captured nor released yet: its job, seller, batch ("" for a job alone) and when it was placed."""

    job_id: str
    user_id: int
    batch_id: str
    at: float


@dataclass(frozen=True)
class Move:
    """One entry of a seller's ledger."""

    kind: str
    amount: int
    free: int
    ref: str
    at: float
    reason: str = ""
    stars: int = 0
    spent: int = 0  # a capture's credits, spent from its hold (the balance moved at the hold)
    month: str = ""  # the allowance month of a hold or release


@dataclass(frozen=True)
class Wallet:
    """A seller's balance and this month's free images left, read together."""

    balance: int
    free_left: int


@dataclass(frozen=True)
class Audit:
    """A seller's ledger checked against their keys: `consistent` when every sum matches."""

    balance: int
    ledger_sum: int
    held: int  # credits in open holds, by the ledger
    holds_open: int  # credits in open holds, by the hold keys
    free_used: dict[str, int]  # by month, by the allowance hash
    free_sum: dict[str, int]  # by month, by the ledger

    @property
    def consistent(self) -> bool:
        return (
            self.balance == self.ledger_sum
            and self.balance >= 0
            and self.held == self.holds_open
            and self.free_used == self.free_sum
        )


@dataclass(frozen=True)
class RefundStart:
    """Where a refund stands after its first half: "go" (ask Telegram), "unknown", "refunded" or "spent"."""

    outcome: str
    credits: int
    balance: int


class HoldStep:
    """Holds to place inside another optimistic transaction (the limits'): watch, check, then stage.

    One charge for a job, one per photo for a batch: all of one seller, all held at EXEC or none.
    """

    def __init__(self, ledger: "Ledger", *charges: Charge, at: float | None = None) -> None:
        if not charges or len({charge.user_id for charge in charges}) != 1:
            raise ValueError("a hold step holds one seller's charges")
        self.ledger = ledger
        self.charges = charges
        self.at = time.time() if at is None else at

    @property
    def user_id(self) -> int:
        return self.charges[0].user_id

    @property
    def job_ids(self) -> tuple[str, ...]:
        return tuple(charge.job_id for charge in self.charges)

    @property
    def keys(self) -> list[str]:
        """What the transaction must WATCH so that its check still holds at EXEC."""
        return [
            CREDITS_KEY + str(self.user_id),
            FREE_KEY + str(self.user_id),
            *(HOLD_KEY + job_id for job_id in self.job_ids),
        ]

    async def check(self, pipe: Pipeline) -> None:
        """Raise NotEnoughCredits now, while the keys are watched, rather than fail inside MULTI."""
        credits_key, free_key, *hold_keys = self.keys
        # A replayed Confirm: the script takes nothing more for a job held already.
        pending = [charge for charge, key in zip(self.charges, hold_keys) if await _state(pipe, key) != b"held"]
        balance = int(await pipe.get(credits_key) or 0)
        used = int(await cast(Awaitable[bytes | None], pipe.hget(free_key, month_of(self.at))) or 0)
        self.ledger.refuse_short(pending, balance, used)

    async def stage(self, pipe: Pipeline) -> None:
        """Queue the holds in the transaction after MULTI; they run at EXEC, in order, with the values checked."""
        for charge in self.charges:
            await self.ledger.run_hold(charge, self.at, pipe)


class Ledger:
    """The one owner of the billing keys; every change to them is one of its scripts."""

    def __init__(self, redis: Redis, free_images: int) -> None:
        self.redis = redis
        self.free_images = free_images
        self._hold = redis.register_script(_HOLD)
        self._capture = redis.register_script(_CAPTURE)
        self._release = redis.register_script(_RELEASE)
        self._purchase = redis.register_script(_PURCHASE)
        self._grant = redis.register_script(_GRANT)
        self._refund_begin = redis.register_script(_REFUND_BEGIN)
        self._refund_end = redis.register_script(_REFUND_END)

    async def wallet(self, user_id: int) -> Wallet:
        """The seller's balance and free images left this month."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.get(CREDITS_KEY + str(user_id))
        pipe.hget(FREE_KEY + str(user_id), month_of())
        balance, used = await pipe.execute()
        return Wallet(int(balance or 0), max(self.free_images - int(used or 0), 0))

    def refuse_short(self, charges: list[Charge], balance: int, free_used: int) -> None:
        """Raise NotEnoughCredits when the balance and allowance cannot cover the charges, held in order as the script holds them."""
        total = 0
        for charge in charges:  # each takes what is left of the month's allowance first, as its hold will
            free, cost = split_cost(charge.images, charge.price, self.free_images - free_used)
            free_used, total = free_used + free, total + cost
        if total > balance:
            raise NotEnoughCredits(cost=total, balance=balance)

    async def hold(self, charge: Charge) -> Hold:
        """Hold a job's cost (raises NotEnoughCredits); a second hold for the same job takes nothing."""
        return self._held(charge, await self.run_hold(charge, time.time()))

    async def run_hold(self, charge: Charge, at: float, client: Redis | Pipeline | None = None):
        """Run the hold script now, or queue it in a transaction's pipeline (`client`); its answer is [status, credits, free, balance]."""
        keys = [
            CREDITS_KEY + str(charge.user_id),
            FREE_KEY + str(charge.user_id),
            HOLD_KEY + charge.job_id,
            MOVES_KEY + str(charge.user_id),
            OPEN_KEY,
        ]
        args: list[str | int | float] = [
            charge.job_id,
            charge.images,
            charge.price,
            self.free_images,
            month_of(at),
            at,
            charge.user_id,
            FREE_TTL_S,
            charge.batch_id,
        ]
        return await self._hold(keys, args, client=client)

    def _held(self, charge: Charge, answer: list[int]) -> Hold:
        status, credits, free, balance = answer
        if status < 0:
            raise NotEnoughCredits(cost=credits, balance=balance)
        return Hold(charge.job_id, credits, free, balance, placed=status == 1)

    async def held(self, job_id: str) -> Hold | None:
        """A job's hold as placed (its `balance` not read: 0); None when it has none (billing was off, or it was settled long ago)."""
        fields = await _fields(self.redis, HOLD_KEY + job_id)
        if not fields:
            return None
        return Hold(job_id, int(fields[b"credits"]), int(fields[b"free"]), 0, placed=fields[b"state"] == b"held")

    async def capture(self, user_id: int, job_id: str) -> bool:
        """The job's results were delivered: its hold is spent. False when it was settled before or had none."""
        keys = [HOLD_KEY + job_id, MOVES_KEY + str(user_id), TOTALS_KEY, OPEN_KEY]
        return bool(await self._capture(keys, [job_id, time.time(), SETTLED_TTL_S]))

    async def release(self, user_id: int, job_id: str, reason: str) -> Release | None:
        """Give a job's hold back (it failed, or was cancelled or forgotten); None when it had none."""
        keys = [
            HOLD_KEY + job_id,
            CREDITS_KEY + str(user_id),
            FREE_KEY + str(user_id),
            MOVES_KEY + str(user_id),
            OPEN_KEY,
        ]
        status, credits, free, balance = await self._release(keys, [job_id, reason, time.time(), SETTLED_TTL_S])
        return None if status < 0 else Release(credits, free, balance, released=status == 1)

    async def open_holds(self, placed_before: float) -> list[OpenHold]:
        """The holds not settled yet that were placed before `placed_before` (epoch seconds), oldest first."""
        holds = []
        for job_id in await self.redis.zrangebyscore(OPEN_KEY, 0, placed_before):
            fields = await _fields(self.redis, HOLD_KEY + job_id.decode())
            if fields.get(b"state") != b"held":  # settled meanwhile (the index is tidied by the scripts)
                continue
            holds.append(
                OpenHold(
                    job_id.decode(), int(fields[b"user"]), fields.get(b"batch", b"").decode(), float(fields[b"at"])
                )
            )
        return holds

    async def thank_once(self, charge_id: str) -> bool:
        """True the first time a credited payment's seller is to be thanked, whichever update or sync asks."""
        return bool(await cast(Awaitable[int], self.redis.hsetnx(PAYMENT_KEY + charge_id, "thanked", "1")))

    async def purchase(self, user_id: int, charge_id: str, credits: int, stars: int, pack: str) -> tuple[bool, int]:
        """Credit a paid pack once per Telegram charge id; return (credited now, balance)."""
        keys = [PAYMENT_KEY + charge_id, CREDITS_KEY + str(user_id), MOVES_KEY + str(user_id), TOTALS_KEY]
        credited, balance = await self._purchase(keys, [charge_id, credits, stars, pack, user_id, time.time()])
        return bool(credited), balance

    async def grant(self, user_id: int, credits: int, reason: str, once: str) -> tuple[bool, int]:
        """Add credits by an admin's hand, once per `once` (the update it came in); return (granted now, balance)."""
        if credits <= 0:
            raise ValueError("a grant adds credits")
        keys = [CREDITS_KEY + str(user_id), MOVES_KEY + str(user_id), GRANTED_KEY + once, TOTALS_KEY]
        granted, balance = await self._grant(keys, [credits, reason, once, time.time(), GRANTED_TTL_S])
        return bool(granted), balance

    async def payment(self, charge_id: str) -> dict[str, str] | None:
        """A credited payment's record (user, credits, stars, pack, state), None for a charge id never credited."""
        fields = await _fields(self.redis, PAYMENT_KEY + charge_id)
        return {key.decode(): value.decode() for key, value in fields.items()} or None

    async def begin_refund(self, user_id: int, charge_id: str) -> RefundStart:
        """Take a payment's credits back before Telegram refunds it; "spent" when the balance no longer holds them."""
        keys = [PAYMENT_KEY + charge_id, CREDITS_KEY + str(user_id), MOVES_KEY + str(user_id)]
        status, credits, balance = await self._refund_begin(keys, [charge_id, user_id, time.time()])
        outcome = {1: "go", 2: "go", -1: "unknown", -2: "refunded", -3: "spent"}[status]
        return RefundStart(outcome, credits, balance)

    async def end_refund(self, user_id: int, charge_id: str, refunded: bool) -> None:
        """Telegram refunded the payment (it is done), or refused (its credits go back)."""
        keys = [PAYMENT_KEY + charge_id, CREDITS_KEY + str(user_id), MOVES_KEY + str(user_id), TOTALS_KEY]
        await self._refund_end(keys, ["done" if refunded else "undo", charge_id, time.time()])

    async def settle_refund(self, user_id: int, charge_id: str) -> str:
        """Telegram refunded a payment (by /refund, or otherwise): its credits are taken back, once; returns begin_refund's outcome."""
        started = await self.begin_refund(user_id, charge_id)
        if started.outcome == "go":
            await self.end_refund(user_id, charge_id, refunded=True)
        return started.outcome

    async def stars_seen(self) -> int:
        """How many of the bot's Star transactions were gone through, all replicas together."""
        return int(await self.redis.get(STARS_SEEN_KEY) or 0)

    async def saw_stars(self, count: int) -> None:
        """The first `count` Star transactions are settled."""
        await self.redis.set(STARS_SEEN_KEY, count)

    async def moves(self, user_id: int, count: int) -> list[Move]:
        """The seller's latest movements, newest first."""
        return [_move(fields) for _, fields in await self.redis.xrevrange(MOVES_KEY + str(user_id), count=count)]

    async def totals(self) -> dict[str, int]:
        """All sellers together: stars_paid, stars_refunded, credits_sold, credits_granted, credits_spent, free_images_spent."""
        return {key.decode(): int(value) for key, value in (await _fields(self.redis, TOTALS_KEY)).items()}

    async def audit(self, user_id: int) -> Audit:
        """Check a seller's ledger against their balance, open holds and free allowance."""
        entries = [_move(fields) for _, fields in await self.redis.xrange(MOVES_KEY + str(user_id))]
        open_refs: dict[str, int] = {}
        free_sum: dict[str, int] = {}
        for entry in entries:
            if entry.kind == "hold":
                open_refs[entry.ref] = -entry.amount
            elif entry.kind in ("capture", "release"):
                open_refs.pop(entry.ref, None)
            if entry.free:
                free_sum[entry.month] = free_sum.get(entry.month, 0) + entry.free
        holds_open = 0
        for job_id in open_refs:
            fields = await _fields(self.redis, HOLD_KEY + job_id)
            holds_open += int(fields[b"credits"]) if fields.get(b"state") == b"held" else 0
        used = {
            month.decode(): int(count) for month, count in (await _fields(self.redis, FREE_KEY + str(user_id))).items()
        }
        return Audit(
            balance=int(await self.redis.get(CREDITS_KEY + str(user_id)) or 0),
            ledger_sum=sum(entry.amount for entry in entries),
            held=sum(open_refs.values()),
            holds_open=holds_open,
            free_used={month: count for month, count in used.items() if count},
            free_sum={month: count for month, count in free_sum.items() if count},
        )


def _move(fields: dict[bytes, bytes]) -> Move:
    text = {key.decode(): value.decode() for key, value in fields.items()}
    return Move(
        kind=text["kind"],
        amount=int(text["amount"]),
        free=int(text.get("free", 0)),
        ref=text.get("ref", ""),
        at=float(text["at"]),
        reason=text.get("reason", ""),
        stars=int(text.get("stars", 0)),
        spent=int(text.get("spent", 0)),
        month=text.get("month", ""),
    )


# The client answers bytes (no decode_responses); redis-py's stubs give Awaitable[T] | T and str for
# bytes, so these casts name what the asyncio client returns.
async def _fields(redis: Redis, key: str) -> dict[bytes, bytes]:
    return await cast(Awaitable[dict[bytes, bytes]], redis.hgetall(key))


async def _state(pipe: Pipeline, key: str) -> bytes | None:
    return await cast(Awaitable[bytes | None], pipe.hget(key, "state"))
