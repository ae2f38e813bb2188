"""The update queue and getUpdates long polling, with Telegram's acknowledgement and conflict rules."""

import asyncio

from shopshot.playground._params import Params
from shopshot.playground._state import BotApiError, State

LONG_POLL_MAX_TIMEOUT = 50
# Telegram holds these back unless a bot asks for them in allowed_updates.
_OFF_BY_DEFAULT = {"chat_member", "message_reaction", "message_reaction_count"}
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


async def push_update(state: State, kind: str, payload: dict) -> int | None:
    """Queue an update for the bot and wake a waiting getUpdates; None if the bot filtered it out."""
    if not _allowed(state.allowed_updates, kind):
        return None
    update_id = next(state.update_ids)
    state.updates.append({"update_id": update_id, kind: payload})
    async with state.wakeup:
        state.wakeup.notify_all()
    return update_id


def _allowed(allowed: list[str] | None, kind: str) -> bool:
    if not allowed:
        return kind not in _OFF_BY_DEFAULT
    return kind in allowed


async def get_updates(state: State, params: Params) -> list[dict]:
    """Confirm updates below `offset`, then return pending ones, waiting up to `timeout` seconds."""
    offset = params.integer("offset", 0)
    limit = min(max(params.integer("limit", 100), 1), 100)
    timeout = min(max(params.integer("timeout", 0), 0), LONG_POLL_MAX_TIMEOUT)
    _set_allowed(state, params)
    _acknowledge(state, offset)
    async with state.wakeup:
        return await _long_poll(state, limit, timeout)


async def _long_poll(state: State, limit: int, timeout: int) -> list[dict]:
    # As on Telegram, a new getUpdates ends the one still waiting (it gets 409) and carries on itself.
    me = object()
    state.poller = me
    state.wakeup.notify_all()
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while True:
            if state.poller is not me:
                raise BotApiError(409, CONFLICT)
            remaining = deadline - asyncio.get_running_loop().time()
            if state.updates or remaining <= 0 or state.closing:
                return state.updates[:limit]
            await _wait(state, remaining)
    finally:
        if state.poller is me:
            state.poller = None


async def _wait(state: State, seconds: float) -> None:
    try:
        await asyncio.wait_for(state.wakeup.wait(), seconds)
    except TimeoutError:
        pass


def _acknowledge(state: State, offset: int) -> None:
    if offset < 0:
        # A negative offset keeps only the last -offset updates and forgets the rest.
        del state.updates[: max(len(state.updates) + offset, 0)]
    elif offset > 0:
        state.updates[:] = [u for u in state.updates if u["update_id"] >= offset]


def _set_allowed(state: State, params: Params) -> None:
    allowed = params.json("allowed_updates", "can't parse allowed_updates JSON object")
    if isinstance(allowed, list):
        state.allowed_updates = [str(kind) for kind in allowed]
