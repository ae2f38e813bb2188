"""The /metrics and /healthz server of each process (bot and worker), and what each counts as healthy."""

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import cast
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry, make_wsgi_app
from redis import Redis
from redis.exceptions import RedisError

from shopshot.config import Settings
from shopshot.metrics import watch_gpu_memory
from shopshot.queue.statistics import QueueCollector

log = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"


class LoopBeat:
    """When an asyncio loop last got round to this task: a loop blocked by a stuck call serves no seller."""

    def __init__(self, every_s: float = 1.0) -> None:
        self.every_s = every_s
        self.at = time.monotonic()

    async def run(self) -> None:
        while True:
            self.at = time.monotonic()
            await asyncio.sleep(self.every_s)

    def age_s(self) -> float:
        return time.monotonic() - self.at


def bot_health(redis: Redis, beat: LoopBeat, max_age_s: float = 10.0) -> str | None:
    """None while the bot's event loop runs and Redis answers, else why not."""
    if (age := beat.age_s()) > max_age_s:
        return f"event loop stalled for {age:.0f} s"
    return redis_health(redis)


def redis_health(redis: Redis) -> str | None:
    """None while Redis answers, else why not."""
    try:
        redis.ping()
    except RedisError as error:
        return f"redis unreachable: {type(error).__name__}"
    return None


def worker_health(redis: Redis, worker_key: str, max_age_s: float) -> str | None:
    """None while Redis answers and this worker's heartbeat is younger than `max_age_s`, else why not."""
    try:
        # The client answers bytes (no decode_responses); redis-py's stubs say Awaitable[T] | T and str.
        beat = cast(bytes | None, redis.hget(worker_key, "last_heartbeat"))
    except RedisError as error:
        return f"redis unreachable: {type(error).__name__}"
    if beat is None:
        return "worker not registered"
    age = (datetime.now(UTC) - datetime.fromisoformat(beat.decode())).total_seconds()
    return f"heartbeat {age:.0f} s old" if age > max_age_s else None


def serve_worker(worker, settings: Settings) -> None:
    """A worker's /metrics and /healthz, when `observability.metrics_port` is set."""
    port = settings.observability.metrics_port
    if port is None:
        return
    watch_gpu_memory()
    # RQ lets a worker's key expire this long after its last heartbeat; a busy one beats once per job.
    max_age_s = max(worker.worker_ttl, settings.queue.job_timeout_s) + 60
    collector = QueueCollector(worker.connection, settings.queue)
    serve(port, lambda: worker_health(worker.connection, worker.key, max_age_s), [collector])


def serve_bot(redis: Redis, settings: Settings, beat: LoopBeat) -> WSGIServer | None:
    """The bot's /metrics and /healthz, when `observability.metrics_port` is set; `beat` runs on its event loop."""
    port = settings.observability.metrics_port
    if port is None:
        return None
    return serve(port, lambda: bot_health(redis, beat), [QueueCollector(redis, settings.queue)])


def serve(port: int, health: Callable[[], str | None], collectors=(), host: str = "0.0.0.0") -> WSGIServer:
    """Serve /metrics (this process's metrics plus `collectors`) and /healthz (200 "ok", or 503 and
    the reason) on a daemon thread; port 0 picks a free one (server.server_port)."""
    registry = CollectorRegistry()
    for collector in (_ProcessMetrics(), *collectors):
        registry.register(collector)
    metrics_app = make_wsgi_app(registry)

    def app(environ, start_response):
        if environ["PATH_INFO"] != HEALTH_PATH:
            return metrics_app(environ, start_response)
        problem = health()
        start_response("503 Service Unavailable" if problem else "200 OK", [("Content-Type", "text/plain")])
        return [(problem or "ok").encode()]

    server = make_server(host, port, app, _ThreadingServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics on :%d/metrics, health on :%d%s", server.server_port, server.server_port, HEALTH_PATH)
    return server


class _ProcessMetrics:
    # The process-wide registry seen through a per-server one, so that the extra collectors of one
    # server never clash with another's (tests run several bots in one process).
    def collect(self):
        return REGISTRY.collect()


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:
        pass  # one line per scrape would drown the process's own log
