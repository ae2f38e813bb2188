"""The bot's composition root: settings, Bot, Dispatcher, Redis and queues, built once."""

import asyncio
import logging
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from redis.asyncio import Redis as AsyncRedis

from shopshot import health, logs
from shopshot.bot import errors
from shopshot.bot.access import AccessMiddleware
from shopshot.bot.budget import BudgetMiddleware, TelegramBudget
from shopshot.bot.delivery import run_forever
from shopshot.bot.flows import build_routers
from shopshot.bot.holds import HoldSweep
from shopshot.bot.instruments import count_api_errors, count_update
from shopshot.bot.isolation import RenewedEventIsolation
from shopshot.bot.middlewares import RetryMiddleware
from shopshot.bot.services import Services, create_services
from shopshot.bot.stars import StarsSync
from shopshot.bot.webhook import serve_webhook
from shopshot.config import STAND_IN_TOKEN, Settings

log = logging.getLogger(__name__)
STATE_TTL_S = 7 * 24 * 3600


def locales_dir() -> Path:
    """Where the compiled gettext catalogs live inside the package."""
    return Path(str(resources.files("shopshot") / "locales"))


def create_bot(settings: Settings, api_url: str | None = None) -> Bot:
    """A Bot for the real Telegram, or for the local stand-in at `api_url`."""
    api_url = api_url or settings.telegram_api_url
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else AiohttpSession()
    session.middleware(RetryMiddleware())
    session.middleware(count_api_errors)  # inside the retries: every failed attempt counts
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else STAND_IN_TOKEN
    return Bot(token, session=session)


def create_dispatcher(services: Services, redis_url: str) -> Dispatcher:
    """The Dispatcher with FSM in Redis, per-user isolation, i18n, the flows, and `services` for every handler."""
    # aiogram closes the storage's client when polling stops; delivery still needs its own until then.
    fsm_redis = AsyncRedis.from_url(redis_url)
    storage = RedisStorage(fsm_redis, state_ttl=STATE_TTL_S, data_ttl=STATE_TTL_S)
    dispatcher = Dispatcher(storage=storage, events_isolation=RenewedEventIsolation(fsm_redis), services=services)
    dispatcher.update.outer_middleware(count_update)
    services.languages.setup(dispatcher)
    AccessMiddleware(services.settings.access).setup(dispatcher)
    dispatcher.include_routers(*build_routers(), errors.build_router())
    return dispatcher


def start_background(services: Services, bot: Bot) -> list[asyncio.Task]:
    """Start result delivery, the status board, the sweep of abandoned holds and (billing on) the Stars sync beside polling."""
    tasks = [
        asyncio.create_task(run_forever(services.delivery, "delivery")),
        asyncio.create_task(run_forever(services.board, "status board")),
        asyncio.create_task(services.gallery.warm_up()),
        asyncio.create_task(services.models.warm_up()),
    ]
    studio = services.studio
    # Whether billing is on or not: holds placed while it was on are settled after it is switched off.
    sweep = HoldSweep(
        bot,
        services.redis,
        studio.ledger,
        studio.jobs,
        studio.feeder,
        studio.book,
        services.i18n,
        services.languages,
        services.settings.queue.job_timeout_s,
    )
    tasks.append(asyncio.create_task(run_forever(sweep, "hold sweep")))
    if services.settings.billing.enabled:  # credits the payments whose successful_payment a killed bot never handled
        sync = StarsSync(bot, services.studio.ledger, services.i18n, services.languages)
        tasks.append(asyncio.create_task(run_forever(sync, "stars sync")))
    return tasks


async def _set_commands(bot: Bot, i18n: I18n, admin_ids: Sequence[int] = (), billing: bool = False) -> None:
    # Telegram scopes command lists by two-letter language; of zh_Hans and zh_Hant, "zh" gets the first.
    languages_done: set[str | None] = set()
    for locale in sorted(i18n.available_locales):
        language = None if locale == i18n.default_locale else locale.split("_")[0]
        if language in languages_done:
            continue
        languages_done.add(language)
        with i18n.context(), i18n.use_locale(locale):
            commands = [
                BotCommand(command="start", description=_("Start over")),
                BotCommand(command="help", description=_("How it works")),
                BotCommand(command="language", description=_("Change language")),
                BotCommand(command="cancel", description=_("Cancel the current step")),
                BotCommand(command="forget", description=_("Delete my photos and data")),
            ]
            if billing:
                commands += [
                    BotCommand(command="buy", description=_("Buy credits with Stars")),
                    BotCommand(command="balance", description=_("My credits and their movements")),
                    BotCommand(command="terms", description=_("Terms of sale")),
                    BotCommand(command="paysupport", description=_("Help with a payment")),
                ]
            stats = BotCommand(command="stats", description=_("Queue and worker figures"))
        await bot.set_my_commands(commands, language_code=language)
        for admin_id in admin_ids:
            await _set_admin_commands(bot, commands + [stats], admin_id, language)


async def _set_admin_commands(bot: Bot, commands: list[BotCommand], admin_id: int, language: str | None) -> None:
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=admin_id), language_code=language)
    except TelegramBadRequest as error:  # "chat not found" until that admin has written to the bot
        log.info("no /stats in the menu of admin %s yet: %s", logs.hash_id(admin_id), error.message)


async def run_bot(settings: Settings, redis_url: str, api_url: str | None = None) -> None:
    """Serve updates until stopped: from a webhook when `webhook.url` is set, else by long polling."""
    bot = create_bot(settings, api_url)
    i18n = I18n(path=locales_dir(), default_locale=settings.default_language, domain="shopshot")
    services = create_services(settings, redis_url, bot, i18n)
    dispatcher = create_dispatcher(services, redis_url)
    # Innermost, after the retries: every attempt that reaches Telegram counts against the budget.
    bot.session.middleware(BudgetMiddleware(TelegramBudget(services.redis, settings.budget)))
    log.info("bot on Redis %s", redis_url)  # the password is redacted by the log formatter
    beat = health.LoopBeat()
    server = health.serve_bot(services.sync_redis, settings, beat)
    background = [asyncio.create_task(beat.run()), *start_background(services, bot)]
    try:
        # Before any update: the slots and one-shot buttons of taps this replica died in are free again.
        if released := await services.studio.release_abandoned():
            log.info("gave back %s job slots taken before the bot last stopped for jobs that never came", released)
        await _set_commands(bot, services.i18n, settings.access.admin_ids, settings.billing.enabled)
        if settings.webhook.url:
            await serve_webhook(dispatcher, bot, settings)
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            await _poll(dispatcher, bot)
    finally:
        if server:
            await asyncio.to_thread(server.shutdown)
            server.server_close()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await bot.session.close()
        await services.redis.aclose()


async def _poll(dispatcher: Dispatcher, bot: Bot) -> None:
    # Cancelling start_polling itself leaves aiogram's polling tasks running; stop it the graceful way.
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False))
    try:
        await asyncio.wait({polling})
        polling.result()
    finally:
        if not polling.done():
            await dispatcher.stop_polling()
            await asyncio.wait({polling})
