"""Payments the bot missed, found in Telegram's list of the bot's Star transactions and credited once.

aiogram confirms updates to Telegram when it asks for the next ones, not when their handlers are
done (and its webhook handler answers Telegram before the handler runs): a bot killed after taking
a successful_payment update but before crediting it would lose that payment. getStarTransactions
lists every payment, in chronological order, under the id its successful_payment carried as
telegram_payment_charge_id (https://core.telegram.org/bots/api#startransaction); going through it
credits what a handler missed, once, since the ledger credits a charge id once, and takes back the
credits of payments refunded outside /refund.
"""

import asyncio
import logging

from aiogram import Bot
from aiogram.types import StarTransaction, TransactionPartnerUser
from aiogram.utils.i18n import I18n

from shopshot.billing.ledger import Ledger
from shopshot.billing.prices import read_payload
from shopshot.bot import credits
from shopshot.bot.languages import SellerI18nMiddleware

log = logging.getLogger(__name__)
PAGE = 100  # the most getStarTransactions returns at once
SYNC_EVERY_S = 60.0


class StarsSync:
    """Goes through the bot's Star transactions from where it last stopped, fleet-wide (the cursor is in Redis)."""

    def __init__(
        self, bot: Bot, ledger: Ledger, i18n: I18n, languages: SellerI18nMiddleware, every_s: float = SYNC_EVERY_S
    ) -> None:
        self.bot = bot
        self.ledger = ledger
        self.i18n = i18n
        self.languages = languages
        self.every_s = every_s

    async def run(self) -> None:
        """Sync now (a restarted bot credits what it missed first), then every `every_s`, until cancelled."""
        while True:
            if credited := await self.sync():
                log.warning("credited %s payments whose successful_payment the bot had not handled", credited)
            await asyncio.sleep(self.every_s)

    async def sync(self) -> int:
        """Settle the transactions not gone through yet; return how many payments were credited now."""
        offset, credited = await self.ledger.stars_seen(), 0
        while True:
            page = (await self.bot.get_star_transactions(offset=offset, limit=PAGE)).transactions
            for transaction in page:
                credited += await self._settle(transaction)
            offset += len(page)
            await self.ledger.saw_stars(
                offset
            )  # after the page: a sync killed halfway goes through it again, harmlessly
            if len(page) < PAGE:
                return credited

    async def _settle(self, transaction: StarTransaction) -> int:
        if isinstance(transaction.receiver, TransactionPartnerUser) and transaction.receiver.invoice_payload:
            await self.ledger.settle_refund(transaction.receiver.user.id, transaction.id)  # Stars sent back to a user
            return 0
        source = transaction.source
        if not (isinstance(source, TransactionPartnerUser) and source.invoice_payload):
            return 0
        try:
            key, pack_credits, _stars = read_payload(source.invoice_payload)
        except ValueError:
            return 0  # not an invoice of this bot's packs
        credited, balance = await self.ledger.purchase(
            source.user.id, transaction.id, pack_credits, transaction.amount, key
        )
        if credited and await self.ledger.thank_once(
            transaction.id
        ):  # a handler that credited it first thanked already
            locale = await self.languages.get_locale(transaction, {"event_from_user": source.user})
            with self.i18n.context(), self.i18n.use_locale(locale):
                await self.bot.send_message(source.user.id, credits.thanks(pack_credits, balance))
        return int(credited)
