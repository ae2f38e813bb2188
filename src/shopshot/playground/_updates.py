"""The update queue, given to the bot by getUpdates long polling or by posting to a webhook, with
Telegram's acknowledgement and conflict rules."""

import asyncio
import contextlib
import logging
import re
from urllib.parse import urlsplit

import aiohttp

from shopshot.playground._params import Params
from shopshot.playground._state import BotApiError, State, Webhook, bad_request, now

log = logging.getLogger(__name__)

LONG_POLL_MAX_TIMEOUT = 50
# Telegram holds these back unless a bot asks for them in allowed_updates.
_OFF_BY_DEFAULT = {"chat_member", "message_reaction", "message_reaction_count"}
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
TERMINATED_BY_WEBHOOK = "Conflict: terminated by setWebhook request"
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_TIMEOUT_S = 10
RETRY_FIRST_S, RETRY_MAX_S = 0.5, 30.0


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
    if state.webhook is not None:
        raise BotApiError(409, WEBHOOK_ACTIVE)
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
            if state.webhook is not None:
                raise BotApiError(409, TERMINATED_BY_WEBHOOK)
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
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(state.wakeup.wait(), seconds)


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


async def set_webhook(state: State, params: Params) -> bool:
    """setWebhook: from now on post each update to `url`; an empty url removes the webhook."""
    url = params.text("url") or ""
    if not url:
        return await delete_webhook(state, params)
    secret = params.text("secret_token")
    max_connections = params.integer("max_connections", 40)
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if secret is not None and not SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: Wrong max_connections specified")
    if params.flag("drop_pending_updates"):
        state.updates.clear()
    _set_allowed(state, params)
    state.webhook = Webhook(url=url, secret_token=secret, max_connections=max_connections)
    if state.webhook_sender is None or state.webhook_sender.done():
        state.webhook_sender = asyncio.create_task(_post_updates(state))
    async with state.wakeup:
        state.wakeup.notify_all()  # a getUpdates still waiting ends with 409, as on Telegram
    return True


async def delete_webhook(state: State, params: Params) -> bool:
    """deleteWebhook: back to getUpdates; drop_pending_updates empties the queue."""
    if params.flag("drop_pending_updates"):
        state.updates.clear()
    state.webhook = None
    async with state.wakeup:
        state.wakeup.notify_all()
    return True


async def get_webhook_info(state: State, params: Params) -> dict:
    """getWebhookInfo: the webhook (url "" when none), how many updates wait, the last delivery error."""
    if state.webhook is None:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(state.updates)}
    return state.webhook.as_info(len(state.updates), state.allowed_updates)


async def _post_updates(state: State) -> None:
    # One update at a time, oldest first; a failed one is retried with growing pauses and holds the
    # rest back, as Telegram's pending_update_count shows. Ends when the webhook is deleted.
    retry_s = RETRY_FIRST_S
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S)) as session:
        while (webhook := await _next_update(state)) is not None:
            update = state.updates[0]
            error = await _post(session, webhook, update)
            if error is None:
                state.updates[:] = [u for u in state.updates if u["update_id"] != update["update_id"]]
                retry_s = RETRY_FIRST_S
                continue
            webhook.last_error_date, webhook.last_error_message = now(), error
            await _sleep_unless_closing(state, retry_s)
            retry_s = min(retry_s * 2, RETRY_MAX_S)


async def _next_update(state: State) -> Webhook | None:
    # The webhook to post the oldest update to once there is one; None when closing or deleted.
    async with state.wakeup:
        await state.wakeup.wait_for(lambda: state.closing or state.webhook is None or bool(state.updates))
    return None if state.closing else state.webhook


async def _post(session: aiohttp.ClientSession, webhook: Webhook, update: dict) -> str | None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": webhook.secret_token} if webhook.secret_token else {}
    try:
        async with session.post(webhook.url, json=update, headers=headers) as response:
            if 200 <= response.status < 300:
                return None
            return f"Wrong response from the webhook: {response.status} {response.reason}"
    except (aiohttp.ClientError, TimeoutError) as error:
        log.debug("webhook post failed: %s", error)
        return "Connection refused" if isinstance(error, aiohttp.ClientConnectionError) else "Read timeout expired"


async def _sleep_unless_closing(state: State, seconds: float) -> None:
    async with state.wakeup:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.wakeup.wait_for(lambda: state.closing or state.webhook is None), seconds)
