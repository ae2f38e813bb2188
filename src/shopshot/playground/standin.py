"""A local stand-in for the Telegram Bot API, for tests, `make run` and the browser playground.

The real aiogram bot runs against it unchanged:
`Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(stand_in.url)))`.

Bot API (Telegram's semantics and error wording; responses `{"ok": true, "result": ...}` or
`{"ok": false, "error_code": N, "description": "...", "parameters"?: {...}}`):
    POST|GET /bot<token>/<method>        query string, urlencoded, multipart or JSON arguments
    GET      /file/bot<token>/<file_path> a file's bytes, file_path from getFile
  Methods: getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo, logOut, close, sendMessage, sendPhoto,
  sendDocument, sendMediaGroup, sendChatAction, editMessageText, editMessageCaption,
  editMessageReplyMarkup, editMessageMedia, deleteMessage, deleteMessages, answerCallbackQuery, setMyCommands,
  getMyCommands, deleteMyCommands, getFile, and payments in Stars (_payments.py): sendInvoice,
  createInvoiceLink, answerPreCheckoutQuery, refundStarPayment, getStarTransactions, with the
  pre_checkout_query update and the successful_payment / refunded_payment messages. Others answer
  404 "Not Found"; a wrong token 401.
  Private chats only; a chat exists once its user has written to the bot ("chat not found" before).
  Upload limits as Telegram documents them: a photo up to 10 MB ("Bad Request: file of size N bytes
  is too big for a photo; ..."), width + height up to 10,000 and sides up to 20:1 ("Bad Request:
  PHOTO_INVALID_DIMENSIONS"); other files up to 50 MB, and a request up to 50 MB plus 64 KB for its
  multipart envelope, else 413 "Request Entity Too Large".
  Telegram's global limit: beyond 30 calls in any one second (getUpdates aside) a call gets 429
  "Too Many Requests: retry after N" with `parameters.retry_after`; /_control/rate_limit changes it.

Where the stand-in knowingly differs from Telegram:
  - sendMediaGroup with one item fails ("media group must include 2-10 items", the documented
    contract); Telegram itself would send it as a lone message.
  - Markdown and MarkdownV2 are accepted but not parsed (no entities, no escaping errors); HTML is.
  - Photos and files sent by URL fail with "failed to get HTTP URL content" (no internet here).
  - Only Stars (XTR) invoices can be paid: there are no card providers. A user pays through the
    control API, and has Stars enough for any invoice.
  - 409 Conflict is answered at once (Telegram spaces them by 3 s); callback queries never expire.
  - setWebhook takes http:// URLs too, and no certificate or ip_address; updates are posted one at a
    time, oldest first, and a failed post is retried (0.5 s, doubling to 30 s) until it succeeds or
    the webhook is deleted; Telegram gives up after a while. Answers in the webhook's response body
    are ignored (Telegram would run them as a method call).

Control API, to act as users and inspect what the bot did (errors: `{"error": "..."}`, 400 for a
malformed request, 404 when the message, button, chat or file does not exist):
    POST /_control/users/<user_id>/text      JSON {text, language_code?, first_name?} -> {message_id}
    POST /_control/users/<user_id>/photo     multipart: file part "photo", fields caption?,
                                             media_group_id?, language_code? -> {message_id}
    POST /_control/users/<user_id>/document  multipart: file part "document" (its filename kept),
                                             fields mime_type?, caption?, language_code? -> {message_id}
    POST /_control/users/<user_id>/album     multipart: 2-10 file parts "photo", language_code?
                                             -> {message_ids, media_group_id}
    POST /_control/users/<user_id>/message   JSON {fields, language_code?} -> {message_id}
    POST /_control/users/<user_id>/press     JSON {message_id, data?, text?, language_code?,
                                             inaccessible?} -> {callback_query_id}; 404 if the
                                             message has no such button with callback_data;
                                             inaccessible: the query carries an InaccessibleMessage
                                             (date 0), as Telegram sends for one the bot can't see
    POST /_control/users/<user_id>/callback  JSON {message_id, data} -> {callback_query_id} (forged)
    POST /_control/users/<user_id>/pay       JSON {message_id (an invoice) | link (createInvoiceLink's)}:
                                             the pre-checkout query, then, if the bot says ok within
                                             10 s, the charge -> {paid: true, telegram_payment_charge_id}
                                             or {paid: false, error_message}
    GET  /_control/users/<user_id>/messages  the bot's messages now, deleted ones left out, each
                                             {message_id, from_bot, kind, text, caption, parse_mode,
                                             reply_markup, media_group_id, file_id, file_name,
                                             mime_type, width, height, date, edits}; text and caption
                                             as the bot wrote them (HTML kept)
    GET  /_control/users/<user_id>/history   the same for every message left in the chat, both sides
    GET  /_control/users/<user_id>/callback_answers  the bot's answers in order: {callback_query_id,
                                             message_id, data, text, show_alert, url, cache_time}
    GET  /_control/files/<file_id>           the stored bytes
    GET  /_control/calls?method=<name>       log of Bot API calls {method, time (monotonic, on arrival),
                                             chat_id, ok, error_code, injected}; error_code 499 when
                                             the bot hung up first (a timeout): the call did nothing;
                                             injected when the call met a fault of /_control/faults
    POST /_control/faults                    JSON {method, status, retry_after?, count?, delay_s?,
                                             description?}: the next `count` calls of `method` wait
                                             delay_s, then fail with `status` (a status below 400
                                             only delays them)
    POST /_control/rate_limit                JSON {calls_per_s}: Bot API calls a second beyond which
                                             calls get 429 (null: no limit; 30 at start)
    POST /_control/reset                     forget chats, files, updates, faults and logs

Every route answers 403 to a request whose Host is not 127.0.0.1 or localhost (any port), or whose
Origin, when it has one, is not the stand-in's own: no other site's page can drive it.

Chat page (`make run`): GET / serves a Telegram-like chat with the bot, one simulated user per tab,
kept live over server-sent events; its routes are listed in _web.py.
"""

from aiohttp import web

from shopshot.config import STAND_IN_TOKEN
from shopshot.playground import _control, _web
from shopshot.playground._botapi import STATE, bot_api, download
from shopshot.playground._media import MAX_UPLOAD_BYTES
from shopshot.playground._state import State

# Telegram takes uploads up to 50 MB; the margin leaves room for the multipart envelope.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 64 * 1024


class StandIn:
    """The stand-in server: one bot token, any number of users."""

    def __init__(self, token: str = STAND_IN_TOKEN) -> None:
        self.state = State(token=token)
        self.app = build_app(self.state)
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0 picks a free port); return the base url."""
        self.state.closing = False
        # Cancelling handlers when clients hang up ends long polls that a stopped bot left behind.
        self._runner = web.AppRunner(self.app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        """Answer waiting long polls, then close the server."""
        if self._runner is None:
            return
        self.state.closing = True
        async with self.state.wakeup:
            self.state.wakeup.notify_all()
        if self.state.webhook_sender is not None:  # it ends once woken; a post in flight is cut short
            self.state.webhook_sender.cancel()
        await self._runner.cleanup()
        self._runner = None


def build_app(state: State) -> web.Application:
    """The aiohttp application serving the Bot API, the control API and the chat page over one state."""
    middlewares = [_control.control_errors, _web.local_pages_only, _web.announce_changes]
    app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=middlewares)
    app[STATE] = state
    app.router.add_route("*", "/bot{token}/{method}", bot_api)
    app.router.add_get("/file/bot{token}/{file_path:.+}", download)
    app.router.add_routes(_control_routes())
    _web.add_web_routes(app)
    return app


def _control_routes() -> list[web.RouteDef]:
    user = "/_control/users/{user_id:-?\\d+}"
    return [
        web.post(f"{user}/text", _control.send_text),
        web.post(f"{user}/photo", _control.send_photo),
        web.post(f"{user}/document", _control.send_document),
        web.post(f"{user}/album", _control.send_album),
        web.post(f"{user}/message", _control.send_fields),
        web.post(f"{user}/press", _control.press),
        web.post(f"{user}/callback", _control.forge_callback),
        web.post(f"{user}/pay", _control.pay),
        web.get(f"{user}/messages", _control.bot_messages),
        web.get(f"{user}/history", _control.history),
        web.get(f"{user}/callback_answers", _control.callback_answers),
        web.get("/_control/files/{file_id}", _control.file_bytes),
        web.get("/_control/calls", _control.calls),
        web.post("/_control/faults", _control.inject_fault),
        web.post("/_control/rate_limit", _control.set_rate_limit),
        web.post("/_control/reset", _control.reset),
    ]
