"""The ledger's invariant, checked after every billing test: the movements sum to the balance."""

import asyncio
import time

from shopshot.billing.ledger import Ledger


async def assert_ledger_sums(ledger: Ledger, user_id: int, balance: int | None = None, held: int | None = None) -> None:
    """The seller's stream sums to their balance, open holds and free allowance; optionally, to these figures."""
    audit = await ledger.audit(user_id)
    assert audit.consistent, audit
    if balance is not None:
        assert audit.balance == balance, audit
    if held is not None:
        assert audit.held == held, audit


async def captured(ledger: Ledger, user_id: int, count: int, timeout_s: float = 30.0) -> None:
    """Wait until the seller's ledger holds `count` captures: delivery captures after its last message went out."""
    deadline = time.monotonic() + timeout_s
    while sum(move.kind == "capture" for move in await ledger.moves(user_id, 100)) < count:
        assert time.monotonic() < deadline, f"fewer than {count} captures within {timeout_s} s"
        await asyncio.sleep(0.05)
