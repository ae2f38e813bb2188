"""Fair turns between sellers: a batch's jobs wait in a backlog and enter the render queue a few at a time.

RQ serves its queue first in, first out: thirty jobs of one batch queued at once would hold every
other seller's job behind them. The feeder keeps at most `per_seller` of each seller's batch jobs
waiting in the RQ queue and feeds the next as a worker takes one (the worker tops up as it starts a
job; the bot does as it holds a batch, and once a second, should a worker die in between). A job
queued meanwhile by another seller waits behind at most `per_seller` of the batch's.

Held jobs are active (ACTIVE_KEY) from the moment they are held, so the limits count them and the
status board shows them, though RQ knows nothing of them until they are fed. Synchronous: call it
through `asyncio.to_thread` from async code.
"""

import json
from typing import cast

from redis.lock import Lock
from rq.job import Job, JobStatus

from shopshot.queue.enqueue import JobQueue, mark_active, retire
from shopshot.queue.spec import JobSpec

# redis-py types each command once for its sync and asyncio clients (`Awaitable[T] | T`), and as text where a
# client without decode_responses, as every one here, answers bytes: the casts name what the sync client returns.

BACKLOG_KEY = "shopshot:backlog:"  # a list per seller: [job id, spec JSON] not fed yet, in order
SELLERS_KEY = "shopshot:backlog-sellers"  # the sellers with a backlog
FED_KEY = "shopshot:fed:"  # a set per seller: their jobs fed and not yet taken by a worker
FEEDING_KEY = "shopshot:feeding"  # held by the one process changing backlogs
FEEDING_S = 5


class Feeder:
    """The backlogs of batch jobs, shared by every bot replica and worker."""

    def __init__(self, jobs: JobQueue, per_seller: int) -> None:
        self.jobs = jobs
        self.redis = jobs.redis
        self.per_seller = per_seller

    def hold(self, held: dict[str, JobSpec]) -> None:
        """Put jobs (by id) in their sellers' backlogs, in order, and feed what fits now."""
        with self._feeding():
            pipe = self.redis.pipeline(transaction=True)
            for job_id, spec in held.items():
                pipe.rpush(BACKLOG_KEY + str(spec.user_id), json.dumps([job_id, spec.to_json()]))
                mark_active(pipe, job_id, spec.to_json())
                pipe.sadd(SELLERS_KEY, spec.user_id)
            pipe.execute()
            self._top_up()

    def top_up(self) -> int:
        """Feed every seller's backlog up to `per_seller` jobs waiting in the RQ queue; return how many went in."""
        with self._feeding():
            return self._top_up()

    def withdraw(self, user_id: int, job_ids: list[str]) -> dict[str, JobSpec]:
        """Take these of a seller's jobs out of the backlog (a cancelled batch); return those that were there."""
        with self._feeding():
            key = BACKLOG_KEY + str(user_id)
            taken = {}
            for entry in cast(list[bytes], self.redis.lrange(key, 0, -1)):
                job_id, spec = json.loads(entry)
                # redis-py types the value as str; it sends bytes as they are.
                if job_id in job_ids and self.redis.lrem(key, 1, entry):  # type: ignore[arg-type]
                    taken[job_id] = JobSpec.from_json(spec)
            if taken:
                retire(self.redis, *taken)
            return taken

    def drop(self, user_id: int) -> dict[str, JobSpec]:
        """Take a seller's whole backlog away (/forget); return the jobs that were in it."""
        held = self.waiting_in_backlog(user_id)
        return self.withdraw(user_id, list(held))

    def waiting_in_backlog(self, user_id: int) -> dict[str, JobSpec]:
        """A seller's jobs not fed yet, in order."""
        entries = (
            json.loads(entry) for entry in cast(list[bytes], self.redis.lrange(BACKLOG_KEY + str(user_id), 0, -1))
        )
        return {job_id: JobSpec.from_json(spec) for job_id, spec in entries}

    def _top_up(self) -> int:
        fed = 0
        for member in cast(set[bytes], self.redis.smembers(SELLERS_KEY)):
            user_id = member.decode()
            waiting = self._waiting(user_id)
            while waiting < self.per_seller:
                entry = cast(bytes | None, self.redis.lpop(BACKLOG_KEY + user_id))
                if entry is None:
                    self.redis.srem(SELLERS_KEY, user_id)  # under the lock: no hold() pushes in between
                    break
                job_id, spec = json.loads(entry)
                self.jobs.enqueue(JobSpec.from_json(spec), job_id)
                self.redis.sadd(FED_KEY + user_id, job_id)
                waiting += 1
                fed += 1
        return fed

    def _waiting(self, user_id: str) -> int:
        """How many of the seller's fed jobs still wait in the RQ queue; those taken (or withdrawn) leave the set."""
        key = FED_KEY + user_id
        fed = [job_id.decode() for job_id in cast(set[bytes], self.redis.smembers(key))]
        jobs = Job.fetch_many(fed, connection=self.redis) if fed else []
        gone = [
            job_id for job_id, job in zip(fed, jobs) if job is None or job.get_status(refresh=False) != JobStatus.QUEUED
        ]
        if gone:
            self.redis.srem(key, *gone)
        return len(fed) - len(gone)

    def _feeding(self) -> Lock:
        # Blocking: a top-up asked for while another runs must still run after it, on what changed since.
        lock: Lock = self.redis.lock(FEEDING_KEY, timeout=FEEDING_S, blocking_timeout=FEEDING_S * 2)
        return lock
