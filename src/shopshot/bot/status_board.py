"""Keeps each active job's status message current: queue position, then progress and ETA."""

import asyncio
import logging
import time
from collections import defaultdict

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.utils.i18n import I18n

from shopshot.bot import texts
from shopshot.queue.enqueue import JobQueue

log = logging.getLogger(__name__)


class StatusBoard:
    """Polls RQ for active jobs and edits their status messages, at most once per `min_edit_s` each."""

    def __init__(self, bot: Bot, jobs: JobQueue, i18n: I18n, poll_s: float = 1.0, min_edit_s: float = 2.0) -> None:
        self.bot = bot
        self.jobs = jobs
        self.i18n = i18n
        self.poll_s = poll_s
        self.min_edit_s = min_edit_s
        self.shown: dict[str, tuple[str, float]] = {}
        self.closed: set[str] = set()
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def run(self) -> None:
        """Refresh until cancelled."""
        while True:
            await self.refresh()
            await asyncio.sleep(self.poll_s)

    async def refresh(self) -> None:
        """Edit the status message of every active job whose text changed."""
        active = await asyncio.to_thread(self.jobs.active)
        typical = await asyncio.to_thread(self.jobs.typical_job_s)
        for job_id, spec in active.items():
            state = await asyncio.to_thread(self.jobs.state, job_id)
            if state.status in ("queued", "started"):
                with self.i18n.context(), self.i18n.use_locale(spec.language):
                    await self._show(job_id, spec.chat_id, spec.status_message_id, texts.status(state, typical))
        self.shown = {job_id: shown for job_id, shown in self.shown.items() if job_id in active}

    async def _show(self, job_id: str, chat_id: int, message_id: int, text: str) -> None:
        last_text, last_time = self.shown.get(job_id, ("", 0.0))
        if text == last_text or time.monotonic() - last_time < self.min_edit_s:
            return
        self.shown[job_id] = (text, time.monotonic())
        # Under the job's lock: an edit in flight cannot land after `close` wrote the final text.
        async with self.locks[job_id]:
            if job_id not in self.closed and await asyncio.to_thread(self.jobs.is_active, job_id):
                await self._edit(job_id, chat_id, message_id, text)

    async def close(self, job_id: str, chat_id: int, message_id: int, text: str) -> None:
        """Write a job's final status; the board leaves that message alone from then on."""
        async with self.locks[job_id]:
            self.closed.add(job_id)
            await self._edit(job_id, chat_id, message_id, text)
        self.locks.pop(job_id, None)

    async def _edit(self, job_id: str, chat_id: int, message_id: int, text: str) -> None:
        try:
            await self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
        except TelegramBadRequest as error:
            log.debug("status of job %s not edited: %s", job_id, error.message)
