"""Billing through the real bot, the stand-in and a real worker on a real Redis: the free allowance,
a pack bought with Stars, credits held on Confirm, spent on delivery and given back on failure or
cancel, /balance, and the admins' /grant and /refund. The ledger sums to the balance after each."""

import io

from PIL import Image

from shopshot.billing.prices import Charge
from shopshot.bot.callbacks import CreditPackPicked, Step
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, newer_than, reach_summary, with_button
from shopshot.queue.store import blob_name, open_store
from tests.billing.conftest import ADMIN
from tests.billing.invariant import assert_ledger_sums, captured

USER = 601
CONFIRM = Step(action="confirm").pack()


def _text_with(fragment: str):
    def find(messages: list[dict]) -> dict | None:
        return next((m for m in reversed(messages) if fragment in (m["text"] or m["caption"] or "")), None)

    return find


async def _summary(api, variants: int, user: int = USER) -> dict:
    await api.send_photo(user, sample_photo())
    await api.wait_for(user, with_button("bd:"))
    return await reach_summary(api, user, Choices(preset="studio", variants=variants))


async def _buy_first_pack(api, settings, user: int = USER) -> dict:
    await api.send_text(user, "/buy")
    offer = await api.wait_for(user, with_button(CreditPackPicked.__prefix__ + ":"))
    pack = settings.billing.packs[0]
    await api.press(user, offer["message_id"], data=CreditPackPicked(key=pack.key).pack())
    invoice = await api.wait_for(user, lambda messages: next((m for m in messages if m["kind"] == "invoice"), None))
    paid = await api.pay(user, message_id=invoice["message_id"])
    assert paid["paid"] is True, paid
    await api.wait_for(user, _text_with("Credits added"))
    return paid


async def test_free_images_then_a_pack_bought_with_stars_then_spent(bot, worker, api, ledger, settings):
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0))
    first = await _summary(api, variants=2)
    await api.press(USER, first["message_id"], data=CONFIRM)
    await api.wait_for(USER, _text_with("Here are your 2 images."), timeout=90)
    assert (
        "Held for this job — credits: 0, free images: 2. Balance: 0."
        in (await api.wait_for(USER, _text_with("Held for this job")))["text"]
    )
    await captured(ledger, USER, 1)
    await assert_ledger_sums(ledger, USER, balance=0, held=0)

    second = await _summary(api, variants=2)
    await api.press(USER, second["message_id"], data=CONFIRM)
    await api.wait_for(USER, _text_with("Credits this job needs: 2; your balance: 0. Buy more with /buy."))

    pack = settings.billing.packs[0]
    await _buy_first_pack(api, settings)
    assert (
        f"Credits added: {pack.credits}. Balance: {pack.credits}."
        in (await api.wait_for(USER, _text_with("Credits added")))["text"]
    )
    await api.press(USER, second["message_id"], data=CONFIRM)  # the summary kept its Confirm
    await api.wait_for(
        USER, lambda messages: sum("Here are your 2 images." in (m["text"] or "") for m in messages) == 2, timeout=90
    )
    await captured(ledger, USER, 2)
    await assert_ledger_sums(ledger, USER, balance=pack.credits - 2, held=0)

    await api.send_text(USER, "/balance")
    shown = (await api.wait_for(USER, _text_with("💳 Credits:")))["text"]
    assert f"Credits: {pack.credits - 2}. Free images left this month: 0." in shown
    assert "bought: +10" in shown and "spent on delivered images: 2" in shown
    totals = await ledger.totals()
    assert (totals["stars_paid"], totals["credits_spent"]) == (pack.stars, 2)


async def test_a_failed_job_gives_its_free_images_back_with_a_message(bot, worker, api, ledger, redis, settings):
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0))
    await api.send_photo(USER, sample_photo())
    await api.wait_for(USER, with_button("bd:"))
    # A photo with no product is refused as it arrives; swap one in behind the bot's back so the worker meets it.
    blank = io.BytesIO()
    Image.new("RGB", (800, 800), (200, 200, 200)).save(blank, "PNG")
    [photo_key] = [key for key in redis.keys("shopshot:blob:*") if b":gallery-" not in key]
    open_store(redis, settings).blobs.write(blob_name(photo_key.decode()), blank.getvalue())
    summary = await reach_summary(api, USER, Choices(preset="studio", variants=1))
    await api.press(USER, summary["message_id"], data=CONFIRM)
    failure = await api.wait_for(USER, with_button("rs:retry"), timeout=90)
    assert "couldn't find a product" in failure["text"]
    assert "Given back — credits: 0, free images: 1. Balance: 0." in failure["text"]
    assert (await ledger.wallet(USER)).free_left == 2
    await assert_ledger_sums(ledger, USER, balance=0, held=0)


async def test_a_job_cancelled_before_it_ran_gives_its_credits_back(bot, api, ledger):
    # No worker: the job waits in the queue until it is cancelled.
    await ledger.grant(USER, 5, "test", once="test-grant")
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0))
    summary = await _summary(api, variants=4)
    await api.press(USER, summary["message_id"], data=CONFIRM)
    await api.wait_for(USER, _text_with("Held for this job — credits: 2, free images: 2. Balance: 3."))
    await assert_ledger_sums(ledger, USER, balance=3, held=2)
    await api.send_text(USER, "/cancel")
    status = await api.wait_for(USER, _text_with("🚫 Cancelled."))
    assert "Given back — credits: 2, free images: 2. Balance: 5." in status["text"]
    await assert_ledger_sums(ledger, USER, balance=5, held=0)
    assert (await ledger.wallet(USER)).free_left == 2


async def test_admins_grant_once_per_update_and_refund_only_unspent_credits(bot, api, ledger, settings, figures):
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0))
    paid = await _buy_first_pack(api, settings)
    await api.send_text(ADMIN, f"/grant {USER} 3 goodwill")
    await api.wait_for(ADMIN, _text_with(f"Granted to {USER} — credits: 3."))
    await assert_ledger_sums(ledger, USER, balance=settings.billing.packs[0].credits + 3)

    # Spend past the grant: the payment's credits are no longer all there.
    await ledger.hold(_charge(settings.billing.packs[0].credits))
    await api.send_text(ADMIN, f"/refund {USER} {paid['telegram_payment_charge_id']}")
    await api.wait_for(ADMIN, _text_with("Not refunded"))
    assert await api.calls("refundStarPayment") == []
    await assert_ledger_sums(ledger, USER, balance=3, held=settings.billing.packs[0].credits)
    figures.set("billing: refund of spent credits, Stars sent back/balance below zero", "0/0 (refused)")

    await ledger.release(USER, "spent-job", "test")
    await api.send_text(ADMIN, f"/refund {USER} {paid['telegram_payment_charge_id']}")
    await api.wait_for(ADMIN, _text_with("Refunded:"))
    assert [call["ok"] for call in await api.calls("refundStarPayment")] == [True]
    await api.send_text(ADMIN, f"/refund {USER} {paid['telegram_payment_charge_id']}")
    await api.wait_for(ADMIN, _text_with("was refunded already"))
    await assert_ledger_sums(ledger, USER, balance=3)
    assert (await ledger.totals())["stars_refunded"] == settings.billing.packs[0].stars

    await api.send_text(ADMIN, "/stats")
    stats = (await api.wait_for(ADMIN, _text_with("Stars paid")))["text"]
    assert f"Stars paid: {settings.billing.packs[0].stars}, refunded: {settings.billing.packs[0].stars}" in stats


def _charge(images: int) -> Charge:
    return Charge(USER, "spent-job", images + 2, 1)  # the two free images first, then `images` credits
