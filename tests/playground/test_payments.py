"""Payments in Stars driven by python-telegram-bot, an independent client: invoices, the
pre-checkout query and its answer, the successful_payment message, refunds and the Star transactions."""

import asyncio

import pytest
import telegram
from telegram.error import BadRequest

STARS = [telegram.LabeledPrice("10 credits", 25)]


async def _invoice(ptb_bot, chat_id, **changes) -> telegram.Message:
    fields = {
        "title": "10 credits",
        "description": "Credits for photos",
        "payload": "pack:s:10:25",
        "currency": "XTR",
        "prices": STARS,
    }
    return await ptb_bot.send_invoice(chat_id, **(fields | changes))


async def _next_update(ptb_bot, offset: int) -> telegram.Update:
    updates = await ptb_bot.get_updates(offset=offset, timeout=5)
    assert updates, "no update"
    return updates[0]


async def _offset(ptb_bot) -> int:
    """The offset past every update so far (the /start that opened the chat)."""
    return (await ptb_bot.get_updates())[-1].update_id + 1


async def _pay_and_answer(
    ptb_bot, user_api, chat_id, message_id: int, ok: bool = True, error_message: str | None = None
):
    """The user pays while the bot answers the pre-checkout query; returns the pay answer, the query's update."""
    offset = await _offset(ptb_bot)
    paying = asyncio.create_task(user_api.pay(chat_id, message_id=message_id))
    update = await _next_update(ptb_bot, offset)
    assert (
        await ptb_bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=ok, error_message=error_message)
        is True
    )
    return await paying, update


async def test_an_invoice_in_stars_carries_its_price_and_a_pay_button(ptb_bot, chat_id):
    sent = await _invoice(ptb_bot, chat_id)

    assert (sent.invoice.title, sent.invoice.currency, sent.invoice.total_amount) == ("10 credits", "XTR", 25)
    button = sent.reply_markup.inline_keyboard[0][0]
    assert button.pay is True and "25" in button.text


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"prices": STARS * 2}, "STARS_INVOICE_INVALID"),
        ({"provider_token": "123:TEST"}, "PAYMENT_PROVIDER_INVALID"),
        ({"payload": "x" * 129}, "INVOICE_PAYLOAD_INVALID"),
        ({"title": ""}, "TITLE_INVALID"),
        ({"prices": [telegram.LabeledPrice("nothing", 0)]}, "CURRENCY_TOTAL_AMOUNT_INVALID"),
        ({"currency": "USD"}, "PAYMENT_PROVIDER_INVALID"),
    ],
)
async def test_an_invoice_telegram_would_refuse_is_refused(ptb_bot, chat_id, changes, error):
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await _invoice(ptb_bot, chat_id, **changes)


async def test_a_payment_sends_a_pre_checkout_query_then_a_successful_payment(ptb_bot, user_api, chat_id):
    sent = await _invoice(ptb_bot, chat_id)
    paid, update = await _pay_and_answer(ptb_bot, user_api, chat_id, sent.message_id)

    query = update.pre_checkout_query
    assert (query.invoice_payload, query.currency, query.total_amount, query.from_user.id) == (
        "pack:s:10:25",
        "XTR",
        25,
        chat_id,
    )
    assert paid["paid"] is True
    payment = (await _next_update(ptb_bot, update.update_id + 1)).message.successful_payment
    assert (payment.telegram_payment_charge_id, payment.invoice_payload, payment.total_amount) == (
        paid["telegram_payment_charge_id"],
        "pack:s:10:25",
        25,
    )
    transactions = (await ptb_bot.get_star_transactions()).transactions
    assert [(t.id, t.amount, t.source.user.id, t.source.invoice_payload) for t in transactions] == [
        (paid["telegram_payment_charge_id"], 25, chat_id, "pack:s:10:25")
    ]


async def test_a_refused_checkout_charges_nothing_and_tells_the_user_why(ptb_bot, user_api, chat_id):
    sent = await _invoice(ptb_bot, chat_id)
    paid, _query = await _pay_and_answer(
        ptb_bot, user_api, chat_id, sent.message_id, ok=False, error_message="Sold out"
    )

    assert paid == {"paid": False, "error_message": "Sold out"}
    assert (await ptb_bot.get_star_transactions()).transactions == ()


async def test_a_pre_checkout_query_is_answered_once_and_refusing_needs_a_reason(ptb_bot, user_api, chat_id):
    sent = await _invoice(ptb_bot, chat_id)
    offset = await _offset(ptb_bot)
    paying = asyncio.create_task(user_api.pay(chat_id, message_id=sent.message_id))
    query = (await _next_update(ptb_bot, offset)).pre_checkout_query

    with pytest.raises(BadRequest, match="(?i)ERROR_MESSAGE_EMPTY"):
        await ptb_bot.answer_pre_checkout_query(query.id, ok=False)
    assert await ptb_bot.answer_pre_checkout_query(query.id, ok=True)
    with pytest.raises(BadRequest, match="(?i)query ID is invalid"):
        await ptb_bot.answer_pre_checkout_query(query.id, ok=True)
    assert (await paying)["paid"] is True


async def test_a_refund_returns_the_stars_once_and_the_bot_hears_of_it(ptb_bot, user_api, chat_id):
    sent = await _invoice(ptb_bot, chat_id)
    paid, _query = await _pay_and_answer(ptb_bot, user_api, chat_id, sent.message_id)
    charge_id = paid["telegram_payment_charge_id"]

    with pytest.raises(BadRequest, match="(?i)USER_ID_INVALID"):
        await ptb_bot.refund_star_payment(chat_id + 1, charge_id)
    with pytest.raises(BadRequest, match="(?i)CHARGE_NOT_FOUND"):
        await ptb_bot.refund_star_payment(chat_id, "stxn-unknown")
    assert await ptb_bot.refund_star_payment(chat_id, charge_id) is True
    with pytest.raises(BadRequest, match="(?i)CHARGE_ALREADY_REFUNDED"):
        await ptb_bot.refund_star_payment(chat_id, charge_id)

    kinds = [m["kind"] for m in await user_api.history(chat_id)]
    assert kinds[-2:] == ["successful_payment", "refunded_payment"]
    transactions = (await ptb_bot.get_star_transactions()).transactions
    assert [t.receiver.user.id for t in transactions if t.receiver] == [chat_id]


async def test_an_invoice_link_can_be_paid_by_any_user(ptb_bot, user_api, chat_id):
    link = await ptb_bot.create_invoice_link("10 credits", "Credits for photos", "pack:s:10:25", "XTR", STARS)
    assert link.startswith("https://t.me/$")
    offset = await _offset(ptb_bot)
    paying = asyncio.create_task(user_api.pay(chat_id, link=link))
    query = (await _next_update(ptb_bot, offset)).pre_checkout_query
    await ptb_bot.answer_pre_checkout_query(query.id, ok=True)
    assert (await paying)["paid"] is True
