"""What sellers are told about their credits: held by a job, given back, and their balance.

Worded as labels ("credits: 4") so that no line needs a plural form per language.
"""

from datetime import UTC, datetime

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime

from shopshot.billing.ledger import Hold, Move, Release, Wallet
from shopshot.config import CreditPack


def held(hold: Hold, balance: int) -> str:
    """The line under a confirmed summary: what the job holds, and the balance left."""
    return _("💳 Held for this job — credits: {credits}, free images: {free}. Balance: {balance}.").format(
        credits=hold.credits, free=hold.free, balance=balance
    )


def given_back(release: Release) -> str:
    """The line that tells a seller a job's held credits came back (it failed, timed out, was cancelled or forgotten)."""
    return _("↩️ Given back — credits: {credits}, free images: {free}. Balance: {balance}.").format(
        credits=release.credits, free=release.free, balance=release.balance
    )


def with_given_back(text: str, release: Release | None) -> str:
    """`text`, and below it the credits given back where a hold was released."""
    return text if release is None or not (release.credits or release.free) else f"{text}\n\n{given_back(release)}"


def buy_prompt(wallet: Wallet) -> str:
    """The /buy message above the packs."""
    return _("Credits: {balance}. Free images left this month: {free}.\nChoose a pack, paid in Telegram Stars:").format(
        balance=wallet.balance, free=wallet.free_left
    )


def invoice_title(pack: CreditPack) -> str:
    """An invoice's title (Telegram allows 32 characters)."""
    return _("shopshot credits: {credits}").format(credits=pack.credits)[:32]


def invoice_description() -> str:
    """An invoice's description (Telegram allows 255 characters)."""
    return _("Credits for product photos. A job holds its credits and gives them back if it fails. See /terms.")[:255]


def thanks(credits: int, balance: int) -> str:
    """The answer to a successful payment."""
    return _("⭐ Thank you! Credits added: {credits}. Balance: {balance}.").format(credits=credits, balance=balance)


def balance(wallet: Wallet, moves: list[Move]) -> str:
    """The /balance message: balance, free images left, and the latest movements."""
    lines = [
        _("💳 Credits: {balance}. Free images left this month: {free}.").format(
            balance=wallet.balance, free=wallet.free_left
        )
    ]
    if moves:
        lines += ["", _("Latest:")]
        lines += [
            f"{format_datetime(datetime.fromtimestamp(move.at, UTC), 'short', locale=get_i18n().current_locale)} · {move_line(move)}"
            for move in moves
        ]
    lines += ["", _("/buy — more credits · /terms · /paysupport")]
    return "\n".join(lines)


def move_line(move: Move) -> str:
    """One movement of the ledger, as a seller reads it."""
    texts = {
        "purchase": _("⭐ bought: +{credits}"),
        "grant": _("🎁 granted: +{credits}"),
        "hold": _("⏳ held for a job: −{credits}, free images: {free}"),
        "capture": _("✅ spent on delivered images: {credits}"),
        "release": _("↩️ given back: +{credits}, free images: {free}"),
        "refund": _("💸 payment refunded: −{credits}"),
        "refund_undone": _("↩️ refund undone: +{credits}"),
    }
    credits = move.spent if move.kind == "capture" else abs(move.amount)
    return texts.get(move.kind, move.kind).format(credits=credits, free=abs(move.free))


def terms() -> str:
    """/terms: what a seller buys, and when credits come back (Telegram asks bots that take payments for terms)."""
    return _(
        "Terms of sale\n"
        "• Credits pay for product photos made by this bot; they are sold in Telegram Stars and cannot be exchanged for money.\n"
        "• A job holds its credits when you confirm it and spends them only when its images are delivered. "
        "If it fails, times out, or you cancel it, the credits come back by themselves.\n"
        "• A payment whose credits are unspent can be refunded: ask via /paysupport.\n"
        "• Telegram's terms for Stars apply as well: telegram.org/tos/stars"
    )


def pay_support(contact: str) -> str:
    """/paysupport: who answers questions about payments."""
    return _(
        "Questions about a payment or a refund? Write to {contact} with the date and the amount; refunds go back in Stars."
    ).format(contact=contact)


def free_studio() -> str:
    """/buy or /balance when billing is off."""
    return _("Every image here is free: there is nothing to buy.")
