"""/buy, /balance, /terms, /paysupport, and the payment itself, in Telegram Stars.

As Telegram's payments guide for digital goods asks (https://core.telegram.org/bots/payments-stars):
invoices in XTR with no provider token and exactly one price; the pre-checkout query answered within
10 s (https://core.telegram.org/bots/api#answerprecheckoutquery), here at once, after checking the
payload; credits given only on the successful_payment service message, once per
telegram_payment_charge_id. Telegram's terms for Stars (https://telegram.org/tos/stars) ask a bot
that takes payments to answer /paysupport, and to show its terms (/terms).
"""

import logging

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, LabeledPrice, Message, PreCheckoutQuery, RefundedPayment, SuccessfulPayment
from aiogram.utils.i18n import gettext as _

from shopshot.billing.prices import STARS, checkout_ok, credit_pack, invoice_payload, read_payload
from shopshot.bot import credits, keyboards
from shopshot.bot.callbacks import CreditPackPicked
from shopshot.bot.pressed import pressed_message
from shopshot.bot.screens import sender_id
from shopshot.bot.services import Services

log = logging.getLogger(__name__)
LATEST_MOVES = 5


async def cmd_buy(message: Message, services: Services) -> None:
    settings, studio = services.settings, services.studio
    if not settings.billing.enabled:
        await message.answer(credits.free_studio())
        return
    wallet = await studio.ledger.wallet(sender_id(message))
    await message.answer(credits.buy_prompt(wallet), reply_markup=keyboards.credit_packs(settings.billing.packs))


async def pack_picked(callback: CallbackQuery, callback_data: CreditPackPicked, services: Services) -> None:
    settings = services.settings
    pack = credit_pack(settings.billing, callback_data.key)  # an old pack's button: InvalidOption, answered as stale
    await pressed_message(callback).answer_invoice(
        title=credits.invoice_title(pack),
        description=credits.invoice_description(),
        payload=invoice_payload(pack),
        currency=STARS,
        prices=[LabeledPrice(label=credits.invoice_title(pack), amount=pack.stars)],
    )
    await callback.answer()


async def pre_checkout(query: PreCheckoutQuery, services: Services) -> None:
    settings = services.settings
    if checkout_ok(settings.billing, query.invoice_payload, query.currency, query.total_amount):
        await query.answer(ok=True)
    else:
        log.info(
            "pre-checkout refused for payload %r (%s %s)", query.invoice_payload, query.total_amount, query.currency
        )
        await query.answer(ok=False, error_message=_("This offer has changed. Please choose a pack again with /buy."))


async def payment_received(message: Message, payment: SuccessfulPayment, services: Services) -> None:
    studio = services.studio
    key, pack_credits, _stars = read_payload(payment.invoice_payload)
    # Credited even if billing was switched off since the checkout: the seller paid. A redelivered update (the bot died before its
    # offset was confirmed), or a payment the Stars sync credited first, credits nothing more; the seller is thanked once, by either.
    credited, balance = await studio.ledger.purchase(
        sender_id(message), payment.telegram_payment_charge_id, pack_credits, payment.total_amount, key
    )
    if not credited:
        log.info("payment %s was credited before", payment.telegram_payment_charge_id)
    if await studio.ledger.thank_once(payment.telegram_payment_charge_id):
        await message.answer(credits.thanks(pack_credits, balance))


async def cmd_balance(message: Message, services: Services) -> None:
    settings, studio = services.settings, services.studio
    if not settings.billing.enabled:
        await message.answer(credits.free_studio())
        return
    wallet = await studio.ledger.wallet(sender_id(message))
    await message.answer(credits.balance(wallet, await studio.ledger.moves(sender_id(message), LATEST_MOVES)))


async def cmd_terms(message: Message) -> None:
    await message.answer(credits.terms())


async def cmd_paysupport(message: Message, services: Services) -> None:
    settings = services.settings
    contact = (
        settings.billing.support
        or ", ".join(f"tg://user?id={admin_id}" for admin_id in settings.access.admin_ids)
        or _("the owner of this bot")
    )
    await message.answer(credits.pay_support(contact))


async def payment_refunded(message: Message, refunded: RefundedPayment, services: Services) -> None:
    studio = services.studio
    if await studio.ledger.settle_refund(sender_id(message), refunded.telegram_payment_charge_id) == "spent":
        log.warning("payment %s refunded by Telegram after its credits were spent", refunded.telegram_payment_charge_id)


def build_router() -> Router:
    """The payment handlers, on a router of their own, before the conversation's (a payment arrives at any step)."""
    router = Router(name="payments")
    router.message.register(cmd_buy, Command("buy"))
    router.message.register(cmd_balance, Command("balance"))
    router.message.register(cmd_terms, Command("terms"))
    router.message.register(cmd_paysupport, Command("paysupport"))
    router.callback_query.register(pack_picked, CreditPackPicked.filter())
    router.pre_checkout_query.register(pre_checkout)
    router.message.register(payment_received, F.successful_payment.as_("payment"))
    router.message.register(payment_refunded, F.refunded_payment.as_("refunded"))
    return router
