"""Real worker processes on one Redis that a test starts, finds by the job they hold, and kills."""

import contextlib
import signal
import subprocess
import time
from pathlib import Path
from typing import Self

from redis import Redis
from rq import Queue
from rq.job import Job

from shopshot.launcher import worker_process
from tests.conftest import until


def all_finished(redis: Redis, job_ids: list[str]) -> bool:
    """True once RQ has every job finished (checked without RQ's registry cleanup, which would sweep from here)."""
    with redis.pipeline(transaction=False) as pipeline:
        for job_id in job_ids:
            pipeline.hget(f"rq:job:{job_id}", "status")
        return all(status == b"finished" for status in pipeline.execute())


class Fleet:
    """`shopshot worker` processes running one backend; leaving the `with` block stops those still alive."""

    def __init__(
        self, redis: Redis, redis_url: str, log_dir: Path, backend: str, env: dict[str, str] | None = None
    ) -> None:
        self.redis = redis
        self.redis_url = redis_url
        self.log_dir = log_dir
        self.env = {"BACKEND": backend} | (env or {})
        self.alive: list[subprocess.Popen] = []
        self.started = 0
        self.stack = contextlib.ExitStack()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.stack.close()

    def start(self, count: int = 1) -> None:
        """Start `count` more workers, each logging to its own file."""
        for _ in range(count):
            self.started += 1
            log = self.log_dir / f"worker-{self.started}.log"
            self.alive.append(self.stack.enter_context(worker_process(self.redis_url, log, self.env)))

    def logs(self) -> str:
        """Every worker's log so far."""
        return "".join(path.read_text(errors="replace") for path in sorted(self.log_dir.glob("worker-*.log")))

    def registered_pids(self) -> set[int]:
        """Pids of the live workers that have registered with RQ (and so listen on their queue)."""
        names = [key.decode() for key in self.redis.keys("rq:worker:*") if key.count(b":") == 2]
        pids = {int(pid) for pid in (self.redis.hget(name, "pid") for name in names) if pid}
        return pids & {process.pid for process in self.alive}

    async def ready(self, timeout_s: float = 120.0) -> None:
        """Wait until every live worker listens."""

        def all_registered() -> bool:
            return len(self.registered_pids()) == len(self.alive)

        await until(all_registered, timeout_s)

    def running_on(self, job_id: str) -> tuple[subprocess.Popen, str] | None:
        """The live worker running a job now and its RQ name, or None."""
        job = Job.fetch(job_id, connection=self.redis)
        if job.get_status() != "started" or not job.worker_name:
            return None
        pid = self.redis.hget(f"rq:worker:{job.worker_name}", "pid")
        found = [process for process in self.alive if pid and process.pid == int(pid)]
        return (found[0], job.worker_name) if found else None

    async def holder(self, job_id: str, timeout_s: float = 60.0) -> tuple[subprocess.Popen, str]:
        """The live worker running a job, and its RQ name, once the job has started."""
        return await until(lambda: self.running_on(job_id), timeout_s, interval_s=0.05)

    async def busy(self, queue: Queue, timeout_s: float = 60.0) -> subprocess.Popen:
        """A live worker running one of the queue's jobs now."""

        def any_running() -> subprocess.Popen | None:
            for job_id in queue.started_job_registry.get_job_ids(cleanup=False):
                if found := self.running_on(job_id):
                    return found[0]
            return None

        return await until(any_running, timeout_s, interval_s=0.02)

    def kill(self, process: subprocess.Popen) -> float:
        """SIGKILL a worker (no cleanup of any kind); return the monotonic time of the kill."""
        process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        process.wait()
        self.alive.remove(process)
        return killed_at
