"""The chat playground: a Telegram-like page served by the stand-in, kept live over server-sent events.

    GET  /                                          the page (web/index.html); ?user=N&lang=xx
    GET  /web/app.js, /web/style.css                its script and stylesheet
    GET  /_playground/users/<user_id>/events?lang=  text/event-stream: "snapshot" {bot, commands,
                                                    messages}, then "upsert" (a message view),
                                                    "delete" {id}, "answer" {message_id, text,
                                                    show_alert}, "commands" [...]
    GET  /_playground/files/<file_id>               a file's bytes with its own content type
    POST /_playground/users/<user_id>/documents     multipart: 2-10 parts "document", language_code?:
                                                    files sent at once, one album

The page sends text, photos, single files and button presses through the control API.

Every route of the stand-in answers only this machine's pages and clients (`local_pages_only`).
"""

import asyncio
import json
import secrets
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from shopshot.playground import _control, _media
from shopshot.playground._botapi import STATE
from shopshot.playground._views import ChatView

KEEP_ALIVE_S = 15.0
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})  # the stand-in listens on 127.0.0.1 only
PAGE_FILES = {"app.js", "style.css"}
_USER = "/_playground/users/{user_id:-?\\d+}"


def web_dir() -> Path:
    """Where the page's files live inside the package."""
    return Path(str(resources.files("shopshot.playground") / "web"))


def add_web_routes(app: web.Application) -> None:
    """Serve the page from `app` and wake its event streams when the server shuts down."""
    app.router.add_get("/", index)
    app.router.add_get("/web/{name}", page_file)
    app.router.add_get(f"{_USER}/events", chat_events)
    app.router.add_post(f"{_USER}/documents", send_documents)
    app.router.add_get("/_playground/files/{file_id}", file_view)
    app.on_shutdown.append(_wake_pages)


@web.middleware
async def local_pages_only(request: web.Request, handler) -> web.StreamResponse:
    """Refuse what a web page elsewhere makes a browser send: 403 for a foreign Host or Origin."""
    # Host: a site whose name is re-pointed at 127.0.0.1 (DNS rebinding) is same-origin to the browser
    # and reads every answer. Origin: any site may post a text/plain "simple" request without asking.
    # Clients that are not browsers (the bot, tests) send no Origin.
    origin = request.headers.get("Origin")
    if _hostname(request.host) not in LOCAL_HOSTS or (
        origin is not None and origin != f"{request.scheme}://{request.host}"
    ):
        raise _control.ControlError(403, "the stand-in answers only pages and clients of this machine")
    return await handler(request)


def _hostname(host: str) -> str | None:
    try:
        return urlsplit(f"//{host}").hostname
    except ValueError:  # not a host at all, e.g. an unclosed "[" of an IPv6 address
        return None


@web.middleware
async def announce_changes(request: web.Request, handler) -> web.StreamResponse:
    """After any request that may have changed a chat, wake the pages watching."""
    try:
        return await handler(request)
    finally:
        if _may_change(request):
            request.app[STATE].changes.publish()


def _may_change(request: web.Request) -> bool:
    method = request.match_info.get("method")
    if method is not None:  # a Bot API call: getUpdates, getFile and the like change nothing
        return not method.lower().startswith("get")
    return request.method == "POST"


async def index(request: web.Request) -> web.FileResponse:
    """The chat page."""
    return _page_file("index.html")


async def page_file(request: web.Request) -> web.FileResponse:
    """The page's script and stylesheet; nothing else from the package."""
    name = request.match_info["name"]
    if name not in PAGE_FILES:
        raise web.HTTPNotFound()
    return _page_file(name)


def _page_file(name: str) -> web.FileResponse:
    # Revalidated on each load (304 when unchanged), so a new version shows without a hard reload.
    return web.FileResponse(web_dir() / name, headers={"Cache-Control": "no-cache"})


async def chat_events(request: web.Request) -> web.StreamResponse:
    """A snapshot of the user's chat, then each change as it happens, until the page or server goes."""
    state = request.app[STATE]
    view = ChatView(state, int(request.match_info["user_id"]), request.query.get("lang") or "en")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    with state.changes.subscribe() as changed:
        try:
            await response.write(b"retry: 1000\n\n")  # reconnect quickly after a restart
            await _send(response, "snapshot", view.snapshot())
            while not state.closing:
                await _follow(response, view, changed)
        except ConnectionResetError:
            pass  # the page was closed
    return response


async def _follow(response: web.StreamResponse, view: ChatView, changed: asyncio.Event) -> None:
    try:
        await asyncio.wait_for(changed.wait(), KEEP_ALIVE_S)
    except TimeoutError:
        await response.write(b": keep-alive\n\n")
        return
    changed.clear()  # before looking, so a change made while we send wakes us again
    for name, data in view.changes():
        await _send(response, name, data)


async def _send(response: web.StreamResponse, name: str, data: object) -> None:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    await response.write(f"event: {name}\ndata: {payload}\n\n".encode())


async def _wake_pages(app: web.Application) -> None:
    app[STATE].changes.publish()


async def file_view(request: web.Request) -> web.Response:
    """A stored file as the page shows it: photos as JPEG, documents with their MIME type."""
    stored = request.app[STATE].files.get(request.match_info["file_id"])
    if stored is None:
        raise _control.ControlError(404, "no such file_id")
    content_type = "image/jpeg" if stored.kind == "photo" else stored.fields.get("mime_type")
    # A file_id always names the same bytes.
    headers = {"Cache-Control": "max-age=86400, immutable"}
    return web.Response(body=stored.data, content_type=content_type or "application/octet-stream", headers=headers)


async def send_documents(request: web.Request) -> web.Response:
    """A user sends several files at once: one document update per file, sharing a media_group_id."""
    form = await request.post()
    parts = form.getall("document", [])
    files = [part for part in parts if isinstance(part, web.FileField)]
    if not 2 <= len(parts) <= 10 or len(files) != len(parts):
        raise _control.ControlError(400, "an album has 2-10 file parts named 'document'")
    state, group_id = request.app[STATE], str(secrets.randbits(62))
    stored = [_media.store_document(state, part.file.read(), part.filename, _declared_type(part)) for part in files]
    ids = []
    for file in stored:
        message = await _control._from_user(
            request, form, "document", {"document": file.as_api()}, media_group_id=group_id, file_id=file.file_id
        )
        ids.append(message.message_id)
    return web.json_response({"message_ids": ids, "media_group_id": group_id})


def _declared_type(part: web.FileField) -> str | None:
    # Browsers call what they do not recognise octet-stream; the file name says more then.
    return None if part.content_type in (None, "", "application/octet-stream") else part.content_type
