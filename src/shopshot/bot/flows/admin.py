"""/stats for the operators (settings.access.admin_ids); anyone else gets the usual fallback answer."""

import asyncio

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_decimal
from redis import Redis

from shopshot.bot import texts
from shopshot.bot.access import is_admin
from shopshot.config import Settings
from shopshot.queue.statistics import QueueStats, read_stats


def from_admin(message: Message, settings: Settings) -> bool:
    """Filter: the sender is one of the configured admins."""
    return message.from_user is not None and is_admin(settings, message.from_user.id)


async def cmd_stats(message: Message, settings: Settings, sync_redis: Redis) -> None:
    stats = await asyncio.to_thread(read_stats, sync_redis, settings.queue)
    await message.answer(stats_text(stats))


def stats_text(stats: QueueStats) -> str:
    """The /stats message, numbers written the admin's locale's way."""
    lines = [_("📊 Queues and workers")]
    lines += [_("Waiting in {queue}: {count}").format(queue=name, count=number(count)) for name, count in stats.depth.items()]
    lines.append(_("Workers alive: {count}").format(count=number(stats.workers)))
    lines.append(_("Last hour: {done} done, {failed} failed").format(done=number(stats.finished_last_hour), failed=number(stats.failed_last_hour)))
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
    return router
