"""What the handlers and the background tasks use, built once per process and handed to aiogram typed.

aiogram passes the keyword arguments given to `Dispatcher(...)` to every handler, filter and
middleware that names them; the bot gives it one, `services=`, so a handler says
`services: Services` and a type checker follows every use, where string keys read back in several
places would not be checked at all.
"""

from dataclasses import dataclass

from aiogram import Bot
from aiogram.utils.i18n import I18n
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from shopshot.bot.delivery import Delivery
from shopshot.bot.gallery import (
    Gallery,
    ProductGallery,
    backdrop_gallery,
    model_gallery,
)
from shopshot.bot.languages import SellerI18nMiddleware
from shopshot.bot.status_board import StatusBoard
from shopshot.bot.studio import Studio
from shopshot.config import Settings
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.store import open_store


@dataclass(frozen=True)
class Services:
    """The bot's long-lived objects; the FSM storage's Redis client is not here (aiogram closes it when polling stops)."""

    settings: Settings
    studio: Studio
    gallery: ProductGallery  # the backdrops, rendered behind each seller's product
    models: Gallery  # the fashion models
    jobs: JobQueue
    board: StatusBoard  # /cancel and /forget close the status of the jobs they take off the queue
    delivery: Delivery
    languages: SellerI18nMiddleware  # the Stars sync thanks a seller in their language outside any update
    redis: AsyncRedis
    sync_redis: Redis

    @property
    def i18n(self) -> I18n:
        return self.languages.i18n


def create_services(settings: Settings, redis_url: str, bot: Bot, i18n: I18n) -> Services:
    """Every service of one bot process, on fresh Redis clients for `redis_url`."""
    redis = AsyncRedis.from_url(redis_url)
    sync_redis = Redis.from_url(redis_url)
    jobs = JobQueue(sync_redis, settings.queue)
    blobs = open_store(sync_redis, settings)
    studio = Studio(settings, blobs, jobs, redis)
    board = StatusBoard(bot, jobs, i18n)
    # One name per replica that survives restarts, so a restarted bot resumes its own pending entries
    # at once; replicas run on hosts (or containers) of their own, hence the host name.
    delivery = Delivery(bot, redis, settings.queue, i18n, settings.instance_name, board, blobs, studio.ledger)
    return Services(
        settings=settings,
        studio=studio,
        gallery=backdrop_gallery(blobs),
        models=model_gallery(),
        jobs=jobs,
        board=board,
        delivery=delivery,
        languages=SellerI18nMiddleware(i18n, redis),
        redis=redis,
        sync_redis=sync_redis,
    )
