"""/stats, /grant and /refund for the operators (settings.access.admin_ids); anyone else gets the usual fallback answer."""

import asyncio

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_decimal

from shopshot.billing.ledger import Ledger
from shopshot.bot import texts
from shopshot.bot.access import is_admin
from shopshot.bot.services import Services
from shopshot.queue.statistics import QueueStats, read_stats


def from_admin(message: Message, services: Services) -> bool:
    """Filter: the sender is one of the configured admins."""
    return message.from_user is not None and is_admin(services.settings, message.from_user.id)


async def cmd_stats(message: Message, services: Services) -> None:
    settings, sync_redis, studio = services.settings, services.sync_redis, services.studio
    stats = await asyncio.to_thread(read_stats, sync_redis, settings.queue)
    money = (
        "\n" + billing_text(await studio.ledger.totals()) if settings.billing.enabled else ""
    )  # a free studio sells nothing
    await message.answer(stats_text(stats) + money)


def billing_text(totals: dict[str, int]) -> str:
    """The /stats lines about money: Stars taken and given back, credits sold, granted and spent."""
    figures = {
        name: number(totals.get(name, 0))
        for name in ("stars_paid", "stars_refunded", "credits_sold", "credits_granted", "credits_spent")
    }
    return "\n".join(
        [
            _("⭐ Stars paid: {stars_paid}, refunded: {stars_refunded}").format(**figures),
            _("Credits sold: {credits_sold}, granted: {credits_granted}, spent: {credits_spent}").format(**figures),
        ]
    )


async def cmd_grant(message: Message, command: CommandObject, services: Services) -> None:
    studio = services.studio
    try:
        user_text, amount_text, *reason = (command.args or "").split()
        user_id, amount = int(user_text), int(amount_text)
        if amount <= 0:
            raise ValueError(amount)
    except ValueError:
        await message.answer(_("Usage: /grant <user id> <credits> [reason]"))
        return
    # Once per update: the same /grant delivered again (the bot died before confirming it) grants nothing more.
    _granted, balance = await studio.ledger.grant(
        user_id, amount, " ".join(reason) or "admin", once=f"{message.chat.id}:{message.message_id}"
    )
    await message.answer(
        _("Granted to {user_id} — credits: {credits}. Their balance: {balance}.").format(
            credits=number(amount), user_id=user_id, balance=number(balance)
        )
    )


async def cmd_refund(message: Message, command: CommandObject, bot: Bot, services: Services) -> None:
    studio = services.studio
    try:
        user_text, charge_id = (command.args or "").split()
        user_id = int(user_text)
    except ValueError:
        await message.answer(_("Usage: /refund <user id> <telegram payment charge id>"))
        return
    await message.answer(await refund(studio.ledger, bot, user_id, charge_id))


async def refund(ledger: Ledger, bot: Bot, user_id: int, charge_id: str) -> str:
    """Refund a payment in Stars and take its credits back; refused where they were spent. Returns the admin's answer."""
    started = await ledger.begin_refund(user_id, charge_id)
    if started.outcome != "go":
        return {
            "unknown": _("No payment {charge_id} of user {user_id} was credited here."),
            "refunded": _("Payment {charge_id} was refunded already."),
            "spent": _("Not refunded: the payment's credits ({credits}) have been spent; balance: {balance}."),
        }[started.outcome].format(
            charge_id=charge_id, user_id=user_id, credits=number(started.credits), balance=number(started.balance)
        )
    try:
        await bot.refund_star_payment(user_id, charge_id)
    except TelegramBadRequest as error:
        if "CHARGE_ALREADY_REFUNDED" not in error.message:
            await ledger.end_refund(user_id, charge_id, refunded=False)  # the credits are the seller's again
            return _("Telegram refused the refund: {error}").format(error=error.message)
    await ledger.end_refund(user_id, charge_id, refunded=True)
    return _("Refunded: the Stars went back, and the payment's credits ({credits}) were taken back.").format(
        credits=number(started.credits)
    )


def stats_text(stats: QueueStats) -> str:
    """The /stats message, numbers written the admin's locale's way."""
    lines = [_("📊 Queues and workers")]
    lines += [
        _("Waiting in {queue}: {count}").format(queue=name, count=number(count)) for name, count in stats.depth.items()
    ]
    lines.append(_("Workers alive: {count}").format(count=number(stats.workers)))
    lines.append(
        _("Last hour: {done} done, {failed} failed").format(
            done=number(stats.finished_last_hour), failed=number(stats.failed_last_hour)
        )
    )
    if stats.median_job_s is None:
        lines.append(_("Median job time: no jobs yet"))
    else:
        lines.append(_("Median job time: {duration}").format(duration=texts.duration(stats.median_job_s)))
    return "\n".join(lines)


def number(value: int) -> str:
    """An integer written the current locale's way."""
    return format_decimal(value, locale=get_i18n().current_locale)


def build_router() -> Router:
    """The admin commands, on a router of their own, before the fallback."""
    router = Router(name="admin")
    router.message.register(cmd_stats, Command("stats"), from_admin)
    router.message.register(cmd_grant, Command("grant"), from_admin)
    router.message.register(cmd_refund, Command("refund"), from_admin)
    return router
