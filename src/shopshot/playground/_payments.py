"""Payments in Telegram Stars: sendInvoice, createInvoiceLink, answerPreCheckoutQuery,
refundStarPayment and getStarTransactions, and a user paying an invoice (the control API's `pay`).

As on Telegram (https://core.telegram.org/bots/payments-stars, https://core.telegram.org/bots/api#payments):
a user's payment first sends the bot a `pre_checkout_query`, which it must answer within 10 s; only
an `ok` answer charges the user, and the bot then gets a `successful_payment` service message with
a `telegram_payment_charge_id`. A refund sends a `refunded_payment` message. Errors carry the names
Telegram passes through from MTProto (CURRENCY_TOTAL_AMOUNT_INVALID, CHARGE_ALREADY_REFUNDED …).
"""

import asyncio
import secrets

from shopshot.playground._messages import as_api
from shopshot.playground._params import Params
from shopshot.playground._sending import deliver
from shopshot.playground._state import Chat, Checkout, Invoice, StarCharge, State, StoredMessage, bad_request, now
from shopshot.playground._updates import push_update

STARS = "XTR"
PRE_CHECKOUT_S = 10.0  # Telegram cancels a payment whose pre-checkout query is not answered in time
MAX_PAYLOAD_BYTES = 128
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


class PaymentRefused(Exception):
    """The bot refused the pre-checkout query (its error_message), or did not answer in time."""


def _invoice(params: Params) -> Invoice:
    title, description, payload = (
        params.text("title") or "",
        params.text("description") or "",
        params.text("payload") or "",
    )
    currency = params.text("currency") or ""
    if not 1 <= len(title) <= 32:
        raise bad_request("TITLE_INVALID")
    if not 1 <= len(description) <= 255:
        raise bad_request("DESCRIPTION_INVALID")
    if not 1 <= len(payload.encode()) <= MAX_PAYLOAD_BYTES:
        raise bad_request("INVOICE_PAYLOAD_INVALID")
    prices = params.json("prices", "can't parse prices JSON object")
    if (
        not isinstance(prices, list)
        or not prices
        or not all(isinstance(p, dict) and isinstance(p.get("amount"), int) for p in prices)
    ):
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
    if currency == STARS:
        # Stars: no provider, exactly one price, whole Stars, no tips.
        if params.text("provider_token"):
            raise bad_request("PAYMENT_PROVIDER_INVALID")
        if len(prices) != 1 or params.integer("max_tip_amount"):
            raise bad_request("STARS_INVOICE_INVALID")
    elif not params.text("provider_token"):
        raise bad_request("PAYMENT_PROVIDER_INVALID")  # the stand-in has no card providers
    total = sum(price["amount"] for price in prices)
    if total <= 0:
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
    return Invoice(title, description, payload, currency, total)


async def send_invoice(state: State, params: Params) -> dict:
    """sendInvoice: a message with an invoice, and a Pay button first (Telegram adds one when none is given)."""
    chat = state.chat(params.chat_id())
    invoice = _invoice(params)
    sent = deliver(state, params, chat, kind="invoice", content={"invoice": invoice.as_api()})
    message = chat.messages[sent["message_id"]]
    if message.reply_markup is None:
        message.reply_markup = {"inline_keyboard": [[{"text": f"Pay ⭐️{invoice.total_amount}", "pay": True}]]}
        sent["reply_markup"] = message.reply_markup
    state.payments.invoices[f"{chat.id}:{message.message_id}"] = invoice
    return sent


async def create_invoice_link(state: State, params: Params) -> str:
    """createInvoiceLink: a t.me link any user can pay the invoice by."""
    slug = "$" + secrets.token_urlsafe(12)
    state.payments.invoices[slug] = _invoice(params)
    return f"https://t.me/{slug}"


async def answer_pre_checkout_query(state: State, params: Params) -> bool:
    """answerPreCheckoutQuery: once per query, while the user waits; error_message required to refuse."""
    query_id = params.text("pre_checkout_query_id") or ""
    checkout = state.payments.checkouts.pop(query_id, None)
    if checkout is None or checkout.answer.done():
        raise bad_request(QUERY_INVALID)
    ok = params.flag("ok")
    error_message = params.text("error_message")
    if not ok and not error_message:
        state.payments.checkouts[query_id] = checkout  # not answered: it may be answered again
        raise bad_request("ERROR_MESSAGE_EMPTY")
    checkout.answer.set_result(None if ok else error_message)
    return True


async def refund_star_payment(state: State, params: Params) -> bool:
    """refundStarPayment: the Stars go back to the user, who gets a refunded_payment message."""
    user_id, charge_id = params.integer("user_id"), params.text("telegram_payment_charge_id")
    if not charge_id:
        raise bad_request("CHARGE_ID_EMPTY")
    charge = state.payments.charges.get(charge_id)
    if charge is None:
        raise bad_request("CHARGE_NOT_FOUND")
    if charge.user_id != user_id:
        raise bad_request("USER_ID_INVALID")
    if charge.refunded:
        raise bad_request("CHARGE_ALREADY_REFUNDED")
    charge.refunded = True
    chat = state.chats[user_id]
    state.payments.transactions.append(_transaction(charge_id, chat, charge.invoice, "receiver"))
    await _service_message(state, chat, "refunded_payment", _payment_fields(charge_id, charge.invoice))
    return True


async def get_star_transactions(state: State, params: Params) -> dict:
    """getStarTransactions: the bot's Star transactions in chronological order, `offset` skipped, `limit` (1-100) given."""
    offset = max(params.integer("offset", 0), 0)
    limit = min(max(params.integer("limit", 100), 1), 100)
    return {"transactions": state.payments.transactions[offset : offset + limit]}


async def pay(state: State, chat: Chat, invoice_ref: str) -> str:
    """A user pays an invoice: pre-checkout query, the bot's answer, then the charge and its service message.

    Returns the telegram_payment_charge_id; raises PaymentRefused with the bot's error message, or on its silence.
    """
    invoice = state.payments.invoices.get(invoice_ref)
    if invoice is None:
        raise LookupError(f"no invoice {invoice_ref}")
    query_id = str(secrets.randbits(63))
    checkout = Checkout(chat.id, invoice)
    state.payments.checkouts[query_id] = checkout
    query = {
        "id": query_id,
        "from": dict(chat.user),
        "currency": invoice.currency,
        "total_amount": invoice.total_amount,
        "invoice_payload": invoice.payload,
    }
    await push_update(state, "pre_checkout_query", query)
    try:
        refusal = await asyncio.wait_for(asyncio.shield(checkout.answer), PRE_CHECKOUT_S)
    except TimeoutError:
        state.payments.checkouts.pop(query_id, None)
        raise PaymentRefused("the bot did not answer the pre-checkout query in time") from None
    if refusal is not None:
        raise PaymentRefused(refusal)
    charge_id = "stxn" + secrets.token_urlsafe(24)
    state.payments.charges[charge_id] = StarCharge(chat.id, invoice)
    state.payments.transactions.append(_transaction(charge_id, chat, invoice, "source"))
    await _service_message(state, chat, "successful_payment", _payment_fields(charge_id, invoice))
    return charge_id


def _payment_fields(charge_id: str, invoice: Invoice) -> dict:
    # Stars payments have no provider: provider_payment_charge_id is the same id, as Telegram sends it.
    return {
        "currency": invoice.currency,
        "total_amount": invoice.total_amount,
        "invoice_payload": invoice.payload,
        "telegram_payment_charge_id": charge_id,
        "provider_payment_charge_id": charge_id,
    }


def _transaction(charge_id: str, chat: Chat, invoice: Invoice, side: str) -> dict:
    partner = {
        "type": "user",
        "transaction_type": "invoice_payment",
        "user": dict(chat.user),
        "invoice_payload": invoice.payload,
    }
    return {"id": charge_id, "amount": invoice.total_amount, "date": now(), side: partner}


async def _service_message(state: State, chat: Chat, kind: str, fields: dict) -> None:
    message = StoredMessage(chat.next_message_id(), from_bot=False, kind=kind, content={kind: fields})
    chat.messages[message.message_id] = message
    await push_update(state, "message", as_api(state, chat, message))


def invoice_ref(chat: Chat, message_id: int | None, link: str | None) -> str:
    """Where the invoice a user pays is kept: under its message in the chat, or its link's slug."""
    if link:
        return link.removeprefix("https://t.me/")
    if message_id is None or chat.live(message_id) is None:
        raise LookupError(f"no message {message_id} in chat {chat.id}")
    return f"{chat.id}:{message_id}"
