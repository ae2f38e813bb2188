"""The Bot API routes: `/bot<token>/<method>` (method names case-insensitive, as on Telegram) and
`/file/bot<token>/<file_path>`; faults injected by tests are applied here, and every call is logged."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web

from shopshot.playground import _editing, _payments, _sending
from shopshot.playground._params import Params, read_params
from shopshot.playground._state import BotApiError, CallRecord, Fault, State, bad_request
from shopshot.playground._updates import delete_webhook, get_updates, get_webhook_info, set_webhook

STATE = web.AppKey("state", State)
# Long polling sends nothing, and Telegram does not count it against a bot's calls a second.
UNLIMITED = frozenset({"getupdates"})
MAX_DOWNLOAD = 20 * 1024 * 1024
CLIENT_CLOSED = 499
_CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}

Handler = Callable[[State, Params], Awaitable[Any]]


async def bot_api(request: web.Request) -> web.Response:
    """Answer one Bot API call with `{"ok": true, "result": ...}` or Telegram's error object."""
    state = request.app[STATE]
    method = request.match_info["method"]
    received = time.monotonic()
    params = Params()
    fault = None
    try:
        if request.match_info["token"] != state.token:
            raise BotApiError(401, "Unauthorized")
        # Before reading the body, which awaits: calls are counted in the order, and at the time, they arrived.
        _within_rate_limit(state, method, received)
        params = await read_params(request)
        fault = _next_fault(state, method)
        await _meet(fault)
        result = await _handler(method)(state, params)
    except BotApiError as error:
        state.calls.append(CallRecord(method, received, _chat_id(params), False, error.code, fault is not None))
        return _error_response(error)
    except asyncio.CancelledError:
        # The bot gave up (its request timeout) and hung up, so nothing was done: logged as nginx's 499.
        state.calls.append(CallRecord(method, received, _chat_id(params), False, CLIENT_CLOSED, fault is not None))
        raise
    state.calls.append(CallRecord(method, received, _chat_id(params), True, None, fault is not None))
    return web.json_response({"ok": True, "result": result})


async def download(request: web.Request) -> web.Response:
    """The file route: the stored bytes behind a file_path that getFile returned."""
    state = request.app[STATE]
    if request.match_info["token"] != state.token:
        return _error_response(BotApiError(401, "Unauthorized"))
    stored = state.file_by_path(request.match_info["file_path"])
    if stored is None:
        return _error_response(BotApiError(404, "Not Found"))
    return web.Response(body=stored.data, content_type="application/octet-stream")


def _handler(method: str) -> Handler:
    handler = METHODS.get(method.lower())
    if handler is None:
        raise BotApiError(404, "Not Found")
    return handler


def _within_rate_limit(state: State, method: str, received: float) -> None:
    if method.lower() in UNLIMITED:
        return
    retry_after = state.rate_limit.admit(received)
    if retry_after is not None:
        raise BotApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def _next_fault(state: State, method: str) -> Fault | None:
    """The fault injected for this call of `method`, taken off the pending ones; None when there is none."""
    pending = state.faults.get(method.lower())
    return pending.pop(0) if pending else None


async def _meet(fault: Fault | None) -> None:
    """Wait out a fault's delay, then fail the call with its status (one below 400 only delays it)."""
    if fault is None:
        return
    await asyncio.sleep(fault.delay_s)
    if fault.status < 400:
        return
    parameters = {"retry_after": fault.retry_after} if fault.status == 429 and fault.retry_after else None
    description = fault.description or _fault_description(fault.status, fault.retry_after)
    raise BotApiError(fault.status, description, parameters)


def _fault_description(status: int, retry_after: int | None) -> str:
    if status == 429:
        return f"Too Many Requests: retry after {retry_after}" if retry_after else "Too Many Requests"
    if status == 403:
        return "Forbidden: bot was blocked by the user"
    if status == 400:
        return "Bad Request: injected fault"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Internal Server Error"


def _error_response(error: BotApiError) -> web.Response:
    body: dict = {"ok": False, "error_code": error.code, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.code)


def _chat_id(params: Params) -> int | str | None:
    raw = params.text("chat_id")
    return int(raw) if raw and raw.lstrip("-").isdigit() else raw


async def get_me(state: State, params: Params) -> dict:
    """getMe: the bot's own User object."""
    return {
        **state.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def always_true(state: State, params: Params) -> bool:
    """logOut and close: nothing to do locally."""
    return True


async def send_chat_action(state: State, params: Params) -> bool:
    """sendChatAction: checked, then dropped (the chat shows no typing indicator)."""
    state.chat(params.chat_id())  # an unknown chat is refused as Telegram does
    if params.text("action") not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


async def set_my_commands(state: State, params: Params) -> bool:
    """setMyCommands: per scope and language, as Telegram keeps them."""
    commands = params.json("commands", "can't parse commands JSON object")
    if commands is None:
        raise bad_request('parameter "commands" is required')
    if not isinstance(commands, list):
        raise bad_request("expected an Array of BotCommand")
    state.commands[_commands_key(params)] = [_command(item) for item in commands]
    return True


async def get_my_commands(state: State, params: Params) -> list[dict]:
    """getMyCommands: the list for exactly that scope and language (empty if unset)."""
    return state.commands.get(_commands_key(params), [])


async def delete_my_commands(state: State, params: Params) -> bool:
    """deleteMyCommands: forget the list for that scope and language."""
    state.commands.pop(_commands_key(params), None)
    return True


def _commands_key(params: Params) -> str:
    scope = params.json("scope", "can't parse BotCommandScope JSON object") or {"type": "default"}
    return json.dumps(scope, sort_keys=True) + "|" + (params.text("language_code") or "")


def _command(item: Any) -> dict:
    if not isinstance(item, dict):
        raise bad_request("expected an Object")
    command = str(item.get("command") or "").removeprefix("/")
    description = str(item.get("description") or "")
    if not (1 <= len(command) <= 32) or not all(c.isascii() and (c.isalnum() or c == "_") for c in command):
        raise bad_request("BOT_COMMAND_INVALID")
    if not (1 <= len(description) <= 256):
        raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return {"command": command.lower(), "description": description}


async def get_file(state: State, params: Params) -> dict:
    """getFile: the path to download a file from, valid while the stand-in runs."""
    file_id = params.text("file_id")
    if file_id is None:
        raise bad_request("file_id not specified")
    stored = state.files.get(file_id)
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


METHODS: dict[str, Handler] = {
    name.lower(): handler
    for name, handler in {
        "getMe": get_me,
        "getUpdates": get_updates,
        "setWebhook": set_webhook,
        "deleteWebhook": delete_webhook,
        "getWebhookInfo": get_webhook_info,
        "logOut": always_true,
        "close": always_true,
        "sendMessage": _sending.send_message,
        "sendPhoto": _sending.send_photo,
        "sendDocument": _sending.send_document,
        "sendMediaGroup": _sending.send_media_group,
        "editMessageText": _editing.edit_message_text,
        "editMessageCaption": _editing.edit_message_caption,
        "editMessageReplyMarkup": _editing.edit_message_reply_markup,
        "editMessageMedia": _editing.edit_message_media,
        "deleteMessage": _editing.delete_message,
        "deleteMessages": _editing.delete_messages,
        "answerCallbackQuery": _editing.answer_callback_query,
        "sendChatAction": send_chat_action,
        "setMyCommands": set_my_commands,
        "getMyCommands": get_my_commands,
        "deleteMyCommands": delete_my_commands,
        "getFile": get_file,
        "sendInvoice": _payments.send_invoice,
        "createInvoiceLink": _payments.create_invoice_link,
        "answerPreCheckoutQuery": _payments.answer_pre_checkout_query,
        "refundStarPayment": _payments.refund_star_payment,
        "getStarTransactions": _payments.get_star_transactions,
    }.items()
}
