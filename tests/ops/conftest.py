"""Fixtures of the operations tests: bot processes, a password on the embedded Redis, free ports, scrapes."""

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from shopshot.launcher import stop_process
from tests.conftest import until

TOKEN = "7777777:AAH-ops-test-token-Zq81xQ"
REDIS_PASSWORD = "ops-redis-pw-81fa02c3"


@pytest.fixture
def locked_redis_url(redis_url) -> Iterator[str]:
    """The embedded Redis with a password: its URL carries it."""
    client = Redis.from_url(redis_url)
    client.config_set("requirepass", REDIS_PASSWORD)
    path = redis_url.removeprefix("unix://")
    yield f"unix://:{quote(REDIS_PASSWORD)}@{path}"
    # The embedded server's own shutdown speaks no password.
    with contextlib.suppress(Exception):
        Redis(unix_socket_path=path, password=REDIS_PASSWORD).config_set("requirepass", "")
    client.close()


@contextlib.contextmanager
def shopshot_process(command: str, env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    """`shopshot <command>` in a child process with `env` on top of ours, its output in `log_path`."""
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "shopshot", command], env=os.environ | env, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        stop_process(process)


async def get(url: str) -> tuple[int, str]:
    """GET a URL: (status, body); (0, reason) when nothing answers."""
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.status, await response.text()
    except aiohttp.ClientError as error:
        return 0, str(error)


async def wait_until_healthy(port: int, process: subprocess.Popen, log_path: Path, timeout: float = 60.0) -> None:
    """Wait for a process's /healthz to answer 200; fail with its log if it dies or takes too long."""

    async def healthy() -> bool:
        assert process.poll() is None, log_path.read_text()
        return (await get(f"http://127.0.0.1:{port}/healthz"))[0] == 200

    await until(healthy, timeout, 0.2, what=f"/healthz on port {port}", explain=log_path.read_text)


async def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """A process's metrics as {(sample name, sorted labels): value}."""
    status, text = await get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200, text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
