"""Keeps each active job's status message current: queue position, then progress and ETA; a batch's one
status message says how many of its photos are done and how long the rest take."""

import asyncio
import logging
import time
from collections.abc import Collection

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from shopshot.bot import keyboards, texts
from shopshot.bot.budget import OverBudget, best_effort
from shopshot.bot.middlewares import no_retries
from shopshot.queue.enqueue import JobQueue, JobState, Status
from shopshot.queue.feeder import Feeder
from shopshot.queue.spec import JobSpec

log = logging.getLogger(__name__)
PROGRESS_EDIT_TIMEOUT_S = 10  # a progress edit that hangs must not hold up every other chat's


class StatusBoard:
    """Polls RQ for active jobs and edits their status messages, at most once per `min_edit_s` each.

    Progress edits are best effort: they are never retried or waited for; after a 429 the board leaves
    that chat alone until Telegram's `retry_after` has passed. They yield to the bot's other calls: when
    the budget is short an edit is skipped, and the job's newest text goes out on a later refresh, the
    jobs edited longest ago first. The final text (`close`) is retried and always has its turn.
    """

    def __init__(self, bot: Bot, jobs: JobQueue, i18n: I18n, poll_s: float = 1.0, min_edit_s: float = 2.0) -> None:
        self.bot = bot
        self.jobs = jobs
        # Polled each second anyway: it also feeds batch jobs, should a worker die between taking one and feeding the next.
        self.feeder = Feeder(jobs, jobs.settings.feed_per_seller)
        self.i18n = i18n
        self.poll_s = poll_s
        self.min_edit_s = min_edit_s
        self.shown: dict[str, tuple[str, float]] = {}
        self.closed: set[str] = set()
        self.quiet_until: dict[int, float] = {}  # chat id -> when Telegram's retry_after ends (monotonic)
        self.locks: dict[str, asyncio.Lock] = {}

    async def run(self) -> None:
        """Refresh until cancelled."""
        while True:
            await self.refresh()
            await asyncio.sleep(self.poll_s)

    async def refresh(self) -> None:
        """Edit the status message of every active job whose text changed."""
        active = await asyncio.to_thread(self.jobs.active)
        typical: dict[str, float] = {}  # per backend, read once per refresh
        workers: dict[str, int] = {}  # live workers per backend, read once per refresh and only for waiting jobs
        await asyncio.to_thread(self.feeder.top_up)
        batches: dict[str, dict[str, tuple[JobSpec, JobState]]] = {}
        for job_id, spec in sorted(
            active.items(), key=lambda item: self.shown.get(item[1].batch_id or item[0], ("", 0.0))[1]
        ):
            state = await asyncio.to_thread(self.jobs.state, job_id)
            if spec.batch_id:  # shown together, below
                batches.setdefault(spec.batch_id, {})[job_id] = (spec, state)
                continue
            if state.status == Status.QUEUED and spec.backend not in workers:
                workers[spec.backend] = await asyncio.to_thread(self.jobs.live_workers, spec.backend)
            if state.status in (Status.QUEUED, Status.STARTED):
                if spec.backend not in typical:
                    typical[spec.backend] = await asyncio.to_thread(self.jobs.typical_job_s, spec.backend)
                with self.i18n.context(), self.i18n.use_locale(spec.language):
                    text = texts.status(state, typical[spec.backend], workers.get(spec.backend, 1))
                    # An edit without the keyboard removes it: Cancel stays while the job waits, and goes as it starts.
                    markup = keyboards.queued(job_id) if state.status == Status.QUEUED else None
                    await self._show(job_id, spec.chat_id, spec.status_message_id, text, markup)
        for batch_id, members in batches.items():
            await self._show_batch(batch_id, members, typical, workers)
        self._prune(set(active) | set(batches))
        self.quiet_until = {chat: until for chat, until in self.quiet_until.items() if until > time.monotonic()}

    async def _show_batch(
        self,
        batch_id: str,
        members: dict[str, tuple[JobSpec, JobState]],
        typical: dict[str, float],
        workers: dict[str, int],
    ) -> None:
        """Edit a batch's status: its photos done, its progress and the time the rest take; Cancel while some wait."""
        spec = next(iter(members.values()))[0]
        if spec.backend not in typical:
            typical[spec.backend] = await asyncio.to_thread(self.jobs.typical_job_s, spec.backend)
        if spec.backend not in workers:
            workers[spec.backend] = await asyncio.to_thread(self.jobs.live_workers, spec.backend)
        states = [state for _, state in members.values()]
        waiting = any(
            state.status in (Status.QUEUED, Status.GONE) for state in states
        )  # GONE: held by the feeder, not queued yet
        with self.i18n.context(), self.i18n.use_locale(spec.language):
            text = texts.batch_status(spec.batch_size, states, typical[spec.backend], workers[spec.backend])
            markup = keyboards.queued(batch_id) if waiting else None
            await self._show(
                batch_id, spec.chat_id, spec.status_message_id, text, markup, active_id=next(iter(members))
            )

    def _prune(self, active: Collection[str]) -> None:
        # What the board keeps is bounded by the jobs active now. A job gone from `active` when this
        # refresh began (delivery removes it before closing) is never shown again: its `closed` mark,
        # its lock and its last text can go, else they would grow by one per job for the process's life.
        self.shown = {job_id: shown for job_id, shown in self.shown.items() if job_id in active}
        self.closed &= set(active)
        self.locks = {job_id: lock for job_id, lock in self.locks.items() if job_id in active or lock.locked()}

    def _lock(self, job_id: str) -> asyncio.Lock:
        return self.locks.setdefault(job_id, asyncio.Lock())

    async def _show(
        self,
        job_id: str,
        chat_id: int,
        message_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        active_id: str | None = None,
    ) -> None:
        """Edit a status (a job's, or a batch's, whose job `active_id` must still be active) unless shown or edited just now."""
        last_text, last_time = previous = self.shown.get(job_id, ("", 0.0))
        if text == last_text or time.monotonic() - last_time < self.min_edit_s:
            return
        if time.monotonic() < self.quiet_until.get(chat_id, 0.0):
            return
        self.shown[job_id] = (text, time.monotonic())
        # Under the job's lock: an edit in flight cannot land after `close` wrote the final text.
        async with self._lock(job_id):
            if job_id not in self.closed and await asyncio.to_thread(self.jobs.is_active, active_id or job_id):
                try:
                    await self._edit_progress(job_id, chat_id, message_id, text, markup)
                except OverBudget:
                    self.shown[job_id] = previous  # not sent: first in line at the next refresh

    async def _edit_progress(
        self, job_id: str, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        try:
            with no_retries(), best_effort():
                await self._edit(job_id, chat_id, message_id, text, PROGRESS_EDIT_TIMEOUT_S, markup)
        except TelegramRetryAfter as error:
            self.quiet_until[chat_id] = time.monotonic() + error.retry_after
            self._forget_shown(job_id)
            log.info("chat %s: Telegram asks for %s s of quiet; progress edits paused", chat_id, error.retry_after)
        except (TelegramServerError, TelegramNetworkError, ClientDecodeError) as error:
            self._forget_shown(job_id)
            log.info("status of job %s not edited: %s", job_id, error)

    def _forget_shown(self, job_id: str) -> None:
        # The text may not have landed: show it again, no sooner than `min_edit_s` from now.
        self.shown[job_id] = ("", time.monotonic())

    async def close(self, job_id: str, chat_id: int, message_id: int, text: str) -> None:
        """Write a job's final status; the board leaves that message alone from then on."""
        async with self._lock(job_id):
            self.closed.add(job_id)
            await self._edit(job_id, chat_id, message_id, text)
        self.locks.pop(job_id, None)

    async def remove(self, job_id: str, chat_id: int, message_id: int, fallback: str) -> None:
        """Delete a job's status message; where Telegram keeps it (too old to delete), write `fallback` as its final text."""
        async with self._lock(job_id):
            self.closed.add(job_id)
            try:
                await self.bot.delete_message(chat_id, message_id)
            except TelegramBadRequest as error:
                log.debug("status of job %s not deleted: %s", job_id, error.message)
                await self._edit(job_id, chat_id, message_id, fallback)
        self.locks.pop(job_id, None)

    async def _edit(
        self,
        job_id: str,
        chat_id: int,
        message_id: int,
        text: str,
        timeout_s: int | None = None,
        markup: InlineKeyboardMarkup | None = None,
    ) -> None:
        try:
            await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, reply_markup=markup, request_timeout=timeout_s
            )
        except TelegramBadRequest as error:
            log.debug("status of job %s not edited: %s", job_id, error.message)
