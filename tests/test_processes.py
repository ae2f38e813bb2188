"""Process-level promises: a slim bot, and no redis-server left behind by the embedded default."""

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.conftest import until_sync


@pytest.fixture(scope="module")
def bot_modules() -> set[str]:
    """The modules a fresh interpreter holds after importing what `shopshot bot` imports before it runs."""
    code = "import sys, shopshot.cli, shopshot.launcher, shopshot.bot.app; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_the_bot_process_never_imports_torch_or_diffusers(bot_modules):
    assert sorted(m for m in ("torch", "diffusers") if m in bot_modules) == []


def test_a_bot_with_a_real_token_never_imports_the_playground(bot_modules):
    assert "shopshot.bot.app" in bot_modules  # what was imported is what the bot imports
    assert sorted(m for m in bot_modules if m.startswith("shopshot.playground")) == []


def _redis_servers_in(directory) -> list[psutil.Process]:
    return [
        process
        for process in psutil.process_iter(["name", "cwd"])
        if process.info["name"] == "redis-server" and process.info["cwd"] == str(directory)
    ]


def test_embedded_redis_stops_with_the_process(tmp_path):
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {"DATA_DIR": str(data)}
    for stop in (signal.SIGTERM, signal.SIGINT):
        worker = subprocess.Popen(
            [sys.executable, "-m", "shopshot", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        [server] = until_sync(lambda: _redis_servers_in(data.resolve()), 20, what="the embedded redis-server")
        time.sleep(1.0)  # let the worker reach its loop
        worker.send_signal(stop)
        worker.wait(30)  # raises TimeoutExpired if the worker outlives the signal
        until_sync(lambda: not server.is_running(), 10, what="the embedded redis-server stopping")  # noqa: B023 (waited for here)
        assert not _redis_servers_in(data.resolve())
