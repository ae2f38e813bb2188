"""Billing under faults, through the real bot process, the stand-in and a real Redis: a payment
delivered twice, a bot killed between payment and credit, Redis killed with holds open. Nothing is
lost or doubled, and each seller's ledger sums to their balance after each."""

import asyncio
import time

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from redis.asyncio import Redis as AsyncRedis

from shopshot.billing.ledger import PAYMENT_KEY, STARS_SEEN_KEY, Ledger
from shopshot.bot.callbacks import CreditPackPicked, Step
from shopshot.config import STAND_IN_TOKEN, BillingSettings, PriceSettings
from shopshot.launcher import worker_process
from shopshot.playground.scripted import newer_than, with_button
from tests.billing.invariant import assert_ledger_sums, captured
from tests.conftest import BotRunner, until
from tests.faults.conftest import album_counts, reach_confirm

USER = 951
PACK = BillingSettings().packs[0]
BILLING_ENV = {"BILLING__ENABLED": "true", "BILLING__FREE_IMAGES": "0"}
THANKS = "⭐ Thank you!"


def _thanks(messages: list[dict]) -> int:
    return sum((m["text"] or "").startswith(THANKS) for m in messages)


async def _invoice(api, user: int = USER) -> dict:
    """/start, /buy and the first pack's button: the invoice the seller pays."""
    await api.send_text(user, "/start")
    await api.wait_for(user, newer_than(0), timeout=60)
    await api.send_text(user, "/buy")
    offer = await api.wait_for(user, with_button(CreditPackPicked.__prefix__ + ":"), timeout=30)
    await api.press(user, offer["message_id"], data=CreditPackPicked(key=PACK.key).pack())
    return await api.wait_for(
        user, lambda messages: next((m for m in messages if m["kind"] == "invoice"), None), timeout=30
    )


async def _ledger_check(redis_url: str, user: int, balance: int, held: int = 0) -> int:
    """Assert the ledger invariant and the balance; return how many purchases the ledger holds."""
    client = AsyncRedis.from_url(redis_url)
    try:
        ledger = Ledger(client, free_images=0)
        await assert_ledger_sums(ledger, user, balance=balance, held=held)
        return sum(move.kind == "purchase" for move in await ledger.moves(user, 100))
    finally:
        await client.aclose()


async def test_a_successful_payment_delivered_again_after_a_kill_is_credited_and_thanked_once(
    bot_process, api, redis_url, figures
):
    bot_process.env |= BILLING_ENV
    bot_process.start()
    invoice = await _invoice(api)
    # The bot's next two polls are held before they confirm anything: the first while the seller pays,
    # the second (which would confirm the successful_payment) until the bot is killed inside it.
    await api.inject_fault("getUpdates", status=200, delay_s=3)
    await api.inject_fault("getUpdates", status=200, delay_s=120)
    paid = await api.pay(USER, message_id=invoice["message_id"])
    assert paid["paid"] is True, paid
    await api.wait_for(USER, lambda messages: _thanks(messages) == 1, timeout=60)
    bot_process.kill()
    bot_process.start()  # Telegram hands it the unconfirmed successful_payment again
    # A seller's updates are handled in order: once /balance is answered, the redelivered payment was handled before it.
    await api.send_text(USER, "/balance")
    await api.wait_for(
        USER,
        lambda messages: next((m for m in messages if (m["text"] or "").startswith("💳 Credits:")), None),
        timeout=60,
    )
    assert _thanks(await api.messages(USER)) == 1  # thanked once, by its charge id, however often the update comes
    purchases = await _ledger_check(redis_url, USER, balance=PACK.credits)
    assert purchases == 1
    figures.set("billing: successful_payment delivered twice, credited", f"{purchases} time(s)")


async def test_a_payment_the_killed_bot_never_credited_is_credited_from_the_star_transactions(
    bot_process, stand_in, api, redis, redis_url, figures
):
    bot_process.env |= BILLING_ENV
    bot_process.start()
    invoice = await _invoice(api)
    bot_process.kill()
    # The bot's last acts before it died, done here with the same token: it answered the
    # pre-checkout query and took the successful_payment update (confirming it), but never credited it.
    session = AiohttpSession(api=TelegramAPIServer.from_base(stand_in))
    dying = Bot(STAND_IN_TOKEN, session=session)
    try:
        paying = asyncio.create_task(api.pay(USER, message_id=invoice["message_id"]))
        query = await _update_with(dying, "pre_checkout_query")
        await dying.answer_pre_checkout_query(query.pre_checkout_query.id, ok=True)
        assert (await paying)["paid"] is True
        payment = await _update_with(dying, "message")
        await dying.get_updates(offset=payment.update_id + 1, timeout=0)
    finally:
        await session.close()
    charge_id = payment.message.successful_payment.telegram_payment_charge_id
    assert not redis.exists(PAYMENT_KEY + charge_id)
    started = time.monotonic()
    bot_process.start()
    await api.wait_for(USER, lambda messages: _thanks(messages) == 1, timeout=60)
    figures.set(
        "billing: payment missed by a killed bot, credited after its restart (s)", round(time.monotonic() - started, 1)
    )
    # Gone through again from the start (the cursor lost): still credited once.
    redis.delete(STARS_SEEN_KEY)
    bot_process.kill()
    bot_process.start()
    await until(lambda: redis.exists(STARS_SEEN_KEY), timeout_s=60, what="the restarted bot's sync")
    assert await _ledger_check(redis_url, USER, balance=PACK.credits) == 1
    assert _thanks(await api.messages(USER)) == 1


async def _update_with(bot: Bot, kind: str, timeout_s: float = 30):
    deadline = time.monotonic() + timeout_s
    offset = None
    while time.monotonic() < deadline:
        for update in await bot.get_updates(offset=offset, timeout=1):
            offset = update.update_id + 1
            if getattr(update, kind) is not None and (kind != "message" or update.message.successful_payment):
                return update
    raise TimeoutError(f"no {kind} update")


async def test_holds_open_across_a_redis_kill_are_kept_and_settled_once(
    redis_process, stand_in, api, settings, tmp_path, figures
):
    settings.billing = BillingSettings(enabled=True, free_images=0, prices=PriceSettings(studio=1))
    redis_url = redis_process.url
    client = AsyncRedis.from_url(redis_url)
    await Ledger(client, 0).grant(USER, 5, "test", once="grant")
    bot = BotRunner(settings, redis_url, stand_in)
    bot.start()
    try:
        summary = await reach_confirm(api, USER)  # no worker yet: the job waits with its hold open
        await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
        await api.wait_for(
            USER, lambda messages: any("Held for this job" in (m["text"] or "") for m in messages), timeout=60
        )
        await client.aclose()
        redis_process.kill()
        redis_process.start()
        await _ledger_check(redis_url, USER, balance=3, held=2)  # the hold came back with the append-only file
        with worker_process(redis_url, tmp_path / "worker.log"):
            await api.wait_for(USER, with_button("rs:"), timeout=120)
            assert album_counts(await api.messages(USER)) == (2, 2, 1)
        client = AsyncRedis.from_url(redis_url)
        await captured(Ledger(client, 0), USER, 1)
        await client.aclose()
        await _ledger_check(redis_url, USER, balance=3, held=0)
        figures.set("billing: a hold open across a Redis kill, kept and captured", "1 of 1, once")
    finally:
        await bot.stop()
