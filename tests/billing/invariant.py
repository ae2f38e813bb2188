"""The ledger's invariant, checked after every billing test: the movements sum to the balance."""

from shopshot.billing.ledger import Ledger


async def assert_ledger_sums(ledger: Ledger, user_id: int, balance: int | None = None, held: int | None = None) -> None:
    """The seller's stream sums to their balance, open holds and free allowance; optionally, to these figures."""
    audit = await ledger.audit(user_id)
    assert audit.consistent, audit
    if balance is not None:
        assert audit.balance == balance, audit
    if held is not None:
        assert audit.held == held, audit
