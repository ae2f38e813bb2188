"""Holds no delivery will settle: released after a while, with a message to their seller.

A hold is captured when its job's results are delivered and released when the job fails, is
cancelled or forgotten. Should its job's final event be lost, or its bot replica die before queueing
it and never come back, nothing would settle it: the sweep gives back the holds placed more than
`min_age_s` ago (a ticket's reservation and a job's run time: no Confirm is that long between its
hold and its queueing) whose job is no longer queued, backlogged, running or being delivered, nor
finished so recently that its event may still be on its way, nor waiting in a batch for the
batch's other photos. Every replica sweeps; the ledger releases a job's hold once, so a hold swept
by two replicas at once comes back once and its seller hears of it once.
"""

import asyncio
import logging
import time
from collections import defaultdict

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from redis.asyncio import Redis

from shopshot.billing.ledger import Ledger, OpenHold, Release, together
from shopshot.bot import credits
from shopshot.bot.batch import BatchBook
from shopshot.bot.delivery import being_delivered
from shopshot.bot.languages import SellerI18nMiddleware
from shopshot.bot.limits import RESERVATION_S
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.feeder import Feeder

log = logging.getLogger(__name__)
SWEEP_EVERY_S = 600.0
# A job that ended this long ago without being delivered lost its event: a live replica claims a
# pending event within half a minute (delivery.CLAIM_IDLE_MS).
EVENT_GRACE_S = 600.0


class HoldSweep:
    """Releases the holds whose jobs are gone ("expired"), every `every_s`, the first one period after start-up."""

    def __init__(
        self,
        bot: Bot,
        redis: Redis,
        ledger: Ledger,
        jobs: JobQueue,
        feeder: Feeder,
        book: BatchBook,
        i18n: I18n,
        languages: SellerI18nMiddleware,
        job_timeout_s: int,
        every_s: float = SWEEP_EVERY_S,
    ) -> None:
        self.bot, self.redis, self.ledger, self.jobs, self.feeder, self.book = bot, redis, ledger, jobs, feeder, book
        self.i18n, self.languages = i18n, languages
        self.min_age_s = RESERVATION_S + job_timeout_s
        self.every_s = every_s

    async def run(self) -> None:
        """Sweep every `every_s` until cancelled; the first after one period, once a restarted delivery caught up."""
        while True:
            await asyncio.sleep(self.every_s)
            if released := await self.sweep():
                log.warning("released %s holds whose jobs were gone", released)

    async def sweep(self, now: float | None = None) -> int:
        """Release the abandoned holds placed `min_age_s` before `now`; tell each seller once; return how many were released now."""
        now = time.time() if now is None else now
        given_back: dict[int, list[Release | None]] = defaultdict(list)
        for hold in await self.ledger.open_holds(now - self.min_age_s):
            if await self._live(hold, now):
                continue
            release = await self.ledger.release(hold.user_id, hold.job_id, "expired")
            if release is not None and release.released:  # another replica's sweep may have released it a moment ago
                given_back[hold.user_id].append(release)
        for user_id, releases in given_back.items():
            await self._tell(user_id, together(releases))
        return sum(len(releases) for releases in given_back.values())

    async def _live(self, hold: OpenHold, now: float) -> bool:
        """Whether something will still settle the hold: its job waits, runs, was just done, is being delivered, or waits in its batch."""
        if await being_delivered(self.redis, hold.job_id) or (
            hold.batch_id and await self.book.results(hold.batch_id) is not None
        ):
            return True
        if hold.job_id in await asyncio.to_thread(self.feeder.waiting_in_backlog, hold.user_id):
            return True
        return await asyncio.to_thread(self.jobs.waiting_or_just_ended, hold.job_id, EVENT_GRACE_S, now)

    async def _tell(self, user_id: int, release: Release | None) -> None:
        if release is None or not (release.credits or release.free):
            return
        seller = User(
            id=user_id, is_bot=False, first_name=""
        )  # no update to read it from: their chosen language, else the default
        locale = await self.languages.get_locale(seller, {"event_from_user": seller})
        with self.i18n.context(), self.i18n.use_locale(locale):
            text = credits.with_given_back(
                _("⌛ A job of yours never finished, so what it held is given back."), release
            )
        try:
            await self.bot.send_message(user_id, text)
        except TelegramAPIError as error:  # the credits are back either way; the message is a courtesy
            log.warning("seller %s not told of an expired hold: %s", user_id, error)
