"""Starting the parts together: embedded Redis, a worker process, the stand-in and the bot."""

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from shopshot.bot.app import run_bot
from shopshot.config import Settings
from shopshot.embedded import redis_url

if TYPE_CHECKING:
    from shopshot.playground.standin import StandIn

log = logging.getLogger(__name__)
SAMPLE_USER_ID = 1001


@contextlib.contextmanager
def worker_process(url: str, log_path: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """Run `shopshot worker` against `url` in a child process, with `env` over ours; stop it on exit."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = os.environ | (env or {}) | {"REDIS_URL": url}
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "shopshot", "worker"], env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """Ask a child to stop, then kill it if it does not."""
    process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve_bot(settings: Settings, with_worker: bool = False, open_page: bool = False) -> int:
    """Run the bot (and optionally a worker) until Ctrl+C; with no token, on the stand-in and its chat page."""
    with redis_url(settings) as url, _maybe_worker(with_worker, url, settings), contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(settings, url, open_page))
    return 0


def serve_playground(settings: Settings) -> int:
    """The local chat playground until Ctrl+C: embedded Redis, a worker, the bot and its chat page."""
    return serve_bot(playground_settings(settings), with_worker=True, open_page=True)


def playground_settings(settings: Settings) -> Settings:
    """The playground sells credits (its stand-in pays in make-believe Stars) unless BILLING__ENABLED says otherwise."""
    if "enabled" in settings.billing.model_fields_set:
        return settings
    return settings.model_copy(update={"billing": settings.billing.model_copy(update={"enabled": True})})


def _maybe_worker(enabled: bool, url: str, settings: Settings):
    return worker_process(url, settings.data_dir / "worker.log") if enabled else contextlib.nullcontext()


async def _serve(settings: Settings, url: str, open_page: bool) -> None:
    if not settings.uses_stand_in:
        await run_bot(settings, url)
        return
    # Only here: a bot with a real token never loads the stand-in or its chat page.
    from shopshot.playground.standin import StandIn

    stand_in = StandIn()
    page = await _start_page(stand_in, settings.playground_port)
    await _announce(page, open_page)
    try:
        await run_bot(settings, url, page)
    finally:
        await stand_in.stop()


async def _start_page(stand_in: "StandIn", port: int) -> str:
    try:
        return await stand_in.start("127.0.0.1", port)
    except OSError as error:
        # aiohttp's message names the address and the reason ("address already in use").
        raise SystemExit(f"shopshot: {error.strerror or error}; set PLAYGROUND_PORT to a free port") from None


async def _announce(page: str, open_page: bool) -> None:
    print(f"No TELEGRAM_BOT_TOKEN: chat with the bot at {page}/ (each tab is another user; Ctrl+C stops)", flush=True)
    # Only where a desktop can show it: on a server, webbrowser would start a text-mode browser.
    if open_page and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        await asyncio.to_thread(webbrowser.open, f"{page}/")


async def play_locally(settings: Settings, out: Path) -> int:
    """Play the scripted seller conversation against the stand-in and write it to `out`."""
    from shopshot.pipeline.gallery import sample_photo
    from shopshot.playground.scripted import play_conversation
    from shopshot.playground.standin import StandIn

    with redis_url(settings) as url, worker_process(url, settings.data_dir / "worker.log"):
        stand_in = StandIn()
        api_url = await stand_in.start()
        bot = asyncio.create_task(run_bot(settings, url, api_url))
        try:
            transcript = await play_conversation(api_url, SAMPLE_USER_ID, sample_photo(), out)
        finally:
            bot.cancel()
            await asyncio.gather(bot, return_exceptions=True)
            await stand_in.stop()
    print(transcript.summary())
    return 0
