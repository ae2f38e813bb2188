"""A batch through the real bot, a real worker and a real Redis with billing on: refused whole when
its photos together cost more than the balance and allowance, then held per photo, the summary saying
what the batch holds, and each photo's hold spent when the batch is delivered."""

from shopshot.bot.callbacks import Step
from tests.billing.invariant import assert_ledger_sums, captured
from tests.bot.batching import product_photo
from tests.bot.test_batch import send_batch

USER = 611
CONFIRM = Step(action="confirm").pack()


def _text_with(fragment: str):
    def find(messages: list[dict]) -> dict | None:
        return next((m for m in reversed(messages) if fragment in (m["text"] or m["caption"] or "")), None)

    return find


async def test_a_batch_is_refused_whole_then_held_per_photo_and_spent_on_delivery(bot, worker, api, redis, ledger):
    summary = await send_batch(
        api, redis, USER, [[product_photo(n) for n in range(3)]]
    )  # one image a photo; two are free
    await api.press(USER, summary["message_id"], data=CONFIRM)
    await api.wait_for(USER, _text_with("Credits this job needs: 1; your balance: 0. Buy more with /buy."))
    assert await ledger.redis.keys("shopshot:hold:*") == []
    await assert_ledger_sums(ledger, USER, balance=0, held=0)

    await ledger.grant(USER, 1, "test", once="grant")
    await api.press(USER, summary["message_id"], data=CONFIRM)  # the summary and its Confirm stayed
    held = await api.wait_for(USER, _text_with("Held for this job"))
    assert held["text"].endswith("💳 Held for this job — credits: 1, free images: 2. Balance: 0.")
    await api.wait_for(USER, _text_with("✅ Your batch is ready: 3 photos"), timeout=240)
    await captured(ledger, USER, 3)
    await assert_ledger_sums(ledger, USER, balance=0, held=0)
