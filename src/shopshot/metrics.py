"""The Prometheus instruments both processes (bot and worker) count into. No aiogram, no torch, and
nothing of shopshot's but its settings: the bot, the queue and the health server all import it."""

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from prometheus_client import Counter, Gauge, Histogram
from rq.job import JobStatus

from shopshot.config import Settings

# prometheus-client's metrics live in its process-wide registry by design: one set per process, which
# is what a scrape of that process should see.
UPDATES = Counter("shopshot_updates_handled_total", "Telegram updates the bot handled", ["type"])
JOBS_QUEUED = Counter("shopshot_jobs_queued_total", "Render jobs put on a queue", ["task"])
JOBS_STARTED = Counter("shopshot_jobs_started_total", "Render jobs a worker started", ["task"])
JOBS_FINISHED = Counter("shopshot_jobs_finished_total", "Render jobs that ended without an exception", ["task"])
JOBS_FAILED = Counter(
    "shopshot_jobs_failed_total", "Render job attempts that raised (retries count each time)", ["task"]
)
JOB_SECONDS = Histogram(
    "shopshot_job_duration_seconds",
    "Time a worker spent on one render job",
    ["task", "mode"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300),
)
DELIVERY_SECONDS = Histogram(
    "shopshot_delivery_latency_seconds",
    "From a job's result event to the album sent to Telegram",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
API_ERRORS = Counter("shopshot_telegram_api_errors_total", "Failed Bot API calls by Telegram's error code", ["code"])


def watch_gpu_memory() -> None:
    """Export GPU memory in use, when this process has torch with CUDA (the diffusion worker)."""
    torch = sys.modules.get("torch")  # imported by the backend already; never imported here
    if torch is None or not torch.cuda.is_available():
        return
    gauge = Gauge("shopshot_gpu_memory_bytes", "GPU memory allocated by torch", ["device"])
    for index in range(torch.cuda.device_count()):
        gauge.labels(str(index)).set_function(partial(torch.cuda.memory_allocated, index))


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
