"""Webhook mode: Telegram posts updates to a URL; any number of replicas behind a load balancer serve it."""

import asyncio
import logging

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from shopshot.config import Settings

log = logging.getLogger(__name__)


def webhook_app(dispatcher: Dispatcher, bot: Bot, settings: Settings) -> web.Application:
    """The aiohttp app that feeds posted updates to the dispatcher; a wrong or missing secret gets 401."""
    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, secret_token=_secret(settings)).register(app, path=settings.webhook.path)
    setup_application(app, dispatcher, bot=bot)  # the handlers' services are the dispatcher's workflow data
    return app


async def serve_webhook(dispatcher: Dispatcher, bot: Bot, settings: Settings) -> None:
    """Listen for posted updates, point Telegram at the URL, then serve until cancelled."""
    runner = web.AppRunner(webhook_app(dispatcher, bot, settings), handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.webhook.host, settings.webhook.port).start()
        assert settings.webhook.url, "webhook mode is served only with a webhook URL"
        await bot.set_webhook(
            settings.webhook.url,
            secret_token=_secret(settings),
            allowed_updates=dispatcher.resolve_used_update_types(),
            max_connections=settings.webhook.max_connections,
        )
        log.info(
            "webhook mode: listening on %s:%d%s", settings.webhook.host, settings.webhook.port, settings.webhook.path
        )
        # The webhook stays set when this replica stops: the others behind the load balancer go on.
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def _secret(settings: Settings) -> str:
    # Settings refuse a webhook URL without a secret, so every post is checked.
    assert settings.webhook.secret is not None
    return settings.webhook.secret.get_secret_value()
