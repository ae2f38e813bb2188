"""The queue's figures that /stats shows and a scrape reads: depth, workers, recent jobs, from RQ's own keys."""

import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from prometheus_client.core import GaugeMetricFamily
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.registry import BaseRegistry, FailedJobRegistry, FinishedJobRegistry

from shopshot.config import QueueSettings
from shopshot.queue.enqueue import live_workers, recent_durations


@dataclass(frozen=True)
class QueueStats:
    depth: dict[str, int]  # jobs waiting, per queue name
    workers: int  # workers registered with RQ (they heartbeat, or RQ drops them)
    finished_last_hour: int
    failed_last_hour: int
    median_job_s: float | None  # over the recent jobs in `shopshot:durations`


def read_stats(redis: Redis, settings: QueueSettings) -> QueueStats:
    """Queue depth, workers and recent jobs, from RQ's own keys (synchronous: call via to_thread)."""
    queues = _queues(redis, settings)
    durations = recent_durations(redis)
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


def _ended_within(registry: BaseRegistry, ttl_s: int, window_s: int = 3600) -> int:
    # RQ scores these registries by expiry (end + ttl), and every shopshot job has the same ttl.
    # (redis-py types its sync replies as `Awaitable[T] | T`.)
    return cast(int, registry.connection.zcount(registry.key, time.time() + ttl_s - window_s, "+inf"))


class QueueCollector:
    """Queue depth and live workers, read from Redis at scrape time."""

    def __init__(self, redis: Redis, settings: QueueSettings) -> None:
        self.redis = redis
        self.settings = settings

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("shopshot_queue_depth", "Jobs waiting in a queue", labels=["queue"])
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
