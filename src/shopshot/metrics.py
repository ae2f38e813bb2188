"""Prometheus metrics and the /healthz endpoint of each process (bot and worker), and the queue figures
that /stats shows. No aiogram and no torch here: both processes import it."""

import asyncio
import json
import logging
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.job import JobStatus
from rq.registry import FailedJobRegistry, FinishedJobRegistry

from shopshot.config import QueueSettings, Settings

log = logging.getLogger(__name__)

# prometheus-client's metrics live in its process-wide registry by design: one set per process, which
# is what a scrape of that process should see.
UPDATES = Counter("shopshot_updates_handled_total", "Telegram updates the bot handled", ["type"])
JOBS_QUEUED = Counter("shopshot_jobs_queued_total", "Render jobs put on a queue", ["task"])
JOBS_STARTED = Counter("shopshot_jobs_started_total", "Render jobs a worker started", ["task"])
JOBS_FINISHED = Counter("shopshot_jobs_finished_total", "Render jobs that ended without an exception", ["task"])
JOBS_FAILED = Counter("shopshot_jobs_failed_total", "Render job attempts that raised (retries count each time)", ["task"])
JOB_SECONDS = Histogram(
    "shopshot_job_duration_seconds", "Time a worker spent on one render job", ["task", "mode"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300),
)
DELIVERY_SECONDS = Histogram(
    "shopshot_delivery_latency_seconds", "From a job's result event to the album sent to Telegram",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
API_ERRORS = Counter("shopshot_telegram_api_errors_total", "Failed Bot API calls by Telegram's error code", ["code"])
HEALTH_PATH = "/healthz"


@dataclass(frozen=True)
class QueueStats:
    depth: dict[str, int]          # jobs waiting, per queue name
    workers: int                   # workers registered with RQ (they heartbeat, or RQ drops them)
    finished_last_hour: int
    failed_last_hour: int
    median_job_s: float | None     # over the recent jobs in `shopshot:durations`


def read_stats(redis: Redis, settings: QueueSettings) -> QueueStats:
    """Queue depth, workers and recent jobs, from RQ's own keys (synchronous: call via to_thread)."""
    from shopshot.queue.enqueue import DURATIONS_KEY, live_workers  # here: enqueue imports this module for JOBS_QUEUED

    queues = _queues(redis, settings)
    durations = [float(value) for value in redis.lrange(DURATIONS_KEY, 0, -1)]
    return QueueStats(
        depth=read_depth(redis, settings),
        workers=live_workers(redis),
        finished_last_hour=sum(_ended_within(FinishedJobRegistry(queue=q), settings.result_ttl_s) for q in queues),
        failed_last_hour=sum(_ended_within(FailedJobRegistry(queue=q), settings.failure_ttl_s) for q in queues),
        median_job_s=statistics.median(durations) if durations else None,
    )


def read_depth(redis: Redis, settings: QueueSettings) -> dict[str, int]:
    """Jobs waiting, per queue name."""
    return {queue.name: queue.count for queue in _queues(redis, settings)}


def _queues(redis: Redis, settings: QueueSettings) -> list[Queue]:
    return [Queue(name, connection=redis) for name in (settings.name, settings.gpu_name)]


def _ended_within(registry, ttl_s: int, window_s: int = 3600) -> int:
    # RQ scores these registries by expiry (end + ttl), and every shopshot job has the same ttl.
    return registry.connection.zcount(registry.key, time.time() + ttl_s - window_s, "+inf")


class QueueCollector:
    """Queue depth and live workers, read from Redis at scrape time."""

    def __init__(self, redis: Redis, settings: QueueSettings) -> None:
        self.redis = redis
        self.settings = settings

    def collect(self):
        depth = GaugeMetricFamily("shopshot_queue_depth", "Jobs waiting in a queue", labels=["queue"])
        from shopshot.queue.enqueue import live_workers  # here: enqueue imports this module for JOBS_QUEUED

        workers = GaugeMetricFamily("shopshot_workers_alive", "Workers that beat within their lease")
        try:
            waiting, alive = read_depth(self.redis, self.settings), live_workers(self.redis)
        except RedisError:
            return  # /healthz says why; a scrape without these gauges is the honest answer
        for name, count in waiting.items():
            depth.add_metric([name], count)
        workers.add_metric([], alive)
        yield depth
        yield workers


def watch_gpu_memory() -> None:
    """Export GPU memory in use, when this process has torch with CUDA (the diffusion worker)."""
    torch = sys.modules.get("torch")  # imported by the backend already; never imported here
    if torch is None or not torch.cuda.is_available():
        return
    gauge = Gauge("shopshot_gpu_memory_bytes", "GPU memory allocated by torch", ["device"])
    for index in range(torch.cuda.device_count()):
        gauge.labels(str(index)).set_function(lambda index=index: torch.cuda.memory_allocated(index))


@contextmanager
def job_timer(job, settings: Settings) -> Iterator[None]:
    """Count an RQ job started, then finished or failed, and time it by task and mode."""
    task = json.loads(job.args[0]).get("task", "backdrop")
    mode = settings.diffusion.mode if settings.backend == "diffusion" else settings.backend
    JOBS_STARTED.labels(task).inc()
    started = time.monotonic()
    finished = False
    try:
        yield
        # RQ handles a job's exception itself: its status says how it went (re-queued for a retry: failed).
        finished = job.get_status(refresh=True) == JobStatus.FINISHED
    finally:
        JOB_SECONDS.labels(task, mode).observe(time.monotonic() - started)
        (JOBS_FINISHED if finished else JOBS_FAILED).labels(task).inc()


def delivered_after(entry_id: bytes | str) -> None:
    """Record delivery latency: a stream entry's id starts with its XADD time in milliseconds."""
    added_ms = int((entry_id.decode() if isinstance(entry_id, bytes) else entry_id).split("-")[0])
    DELIVERY_SECONDS.observe(max(time.time() - added_ms / 1000, 0.0))


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
        beat = redis.hget(worker_key, "last_heartbeat")
    except RedisError as error:
        return f"redis unreachable: {type(error).__name__}"
    if beat is None:
        return "worker not registered"
    age = (datetime.now(timezone.utc) - datetime.fromisoformat(beat.decode().replace("Z", "+00:00"))).total_seconds()
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
