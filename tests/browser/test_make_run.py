"""`make run` without a token: the chat page, the bot, a worker and Redis until Ctrl+C."""

import asyncio
import os
import signal
import sys

import aiohttp
import pytest

from shopshot import cli, launcher
from shopshot.playground.client import StandInClient
from shopshot.playground.scripted import newer_than
from tests.conftest import free_port

# Ctrl+C as a terminal sends it, even where this test runs with SIGINT ignored (a background job).
RUN = "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); from shopshot.cli import main; sys.exit(main(['run']))"


@pytest.fixture
def run_env(tmp_path) -> dict:
    hidden = {"REDIS_URL", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "DISPLAY", "WAYLAND_DISPLAY"}
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    return env | {"DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_PORT": str(free_port())}


async def test_make_run_serves_the_chat_page_until_ctrl_c(run_env, tmp_path):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUN,
        env=run_env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        url = f"http://127.0.0.1:{run_env['PLAYGROUND_PORT']}"
        assert f"chat with the bot at {url}/" in line
        async with aiohttp.ClientSession() as session, session.get(f"{url}/") as response:
            assert response.status == 200 and "<title>shopshot" in await response.text()
        async with StandInClient(url) as api:
            await api.send_text(9, "/start")
            assert "shopshot" in (await api.wait_for(9, newer_than(0), timeout=20))[0]["text"]
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert (tmp_path / "data" / "worker.log").exists()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", int(run_env["PLAYGROUND_PORT"]))


@pytest.mark.parametrize(
    ("argv", "token", "expected"),
    [
        (["run"], None, "serve_playground"),
        (["run", "--scripted"], None, "play_locally"),
        (["run", "--scripted"], "1:token", "play_locally"),
        (["run"], "1:token", "serve_bot"),
    ],
)
def test_run_picks_the_playground_the_script_or_telegram(monkeypatch, tmp_path, argv, token, expected):
    called = []
    monkeypatch.chdir(tmp_path)  # no developer's .env
    # main() sets up the process (SIGTERM, logging); this one is pytest's and keeps its own.
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)
    monkeypatch.setattr(cli.logs, "setup", lambda settings: None)

    async def play_locally(settings, out):
        called.append("play_locally")
        return 0

    monkeypatch.setattr(launcher, "play_locally", play_locally)
    monkeypatch.setattr(launcher, "serve_playground", lambda settings: called.append("serve_playground") or 0)
    monkeypatch.setattr(launcher, "serve_bot", lambda settings, **kwargs: called.append("serve_bot") or 0)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    if token:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    assert cli.main(argv) == 0 and called == [expected]
