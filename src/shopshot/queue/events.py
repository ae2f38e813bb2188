"""Result and failure events that workers append to a Redis Stream and the bot delivers."""

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, cast

from redis import Redis

from shopshot.queue.spec import JobSpec

# redis-py types each command once for its sync and asyncio clients (`Awaitable[T] | T`), and as text where a
# client without decode_responses, as every one here, answers bytes: the casts name what the sync client returns.

PUBLISHED_KEY = "shopshot:published:"
PUBLISHED_TTL_S = 7 * 24 * 3600


@dataclass(frozen=True)
class ResultImage:
    photo_key: str  # JPEG for the album
    file_key: str  # full-resolution PNG, sent as a document
    seed: int
    width: int
    height: int
    suffix: str = "png"  # the full-resolution file's: a marketplace pack's may be a JPEG
    verdict: dict[str, Any] = field(
        default_factory=dict
    )  # a pack image's compliance (`pipeline.packs.Verdict.to_dict`)


class EventKind(StrEnum):
    """How a job ended. A StrEnum: the stream keeps the plain values, and an entry of a kind this code does not know fails on reading."""

    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"  # published by the bot for a batch job taken off the queue before it started


@dataclass(frozen=True)
class JobEvent:
    kind: EventKind
    job_id: str
    spec: JobSpec
    images: list[ResultImage] = field(default_factory=list)
    error: str = ""  # a ShopshotError's code, for the bot to word
    error_params: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_fields(self) -> dict[str, str]:
        """Encode as stream entry fields."""
        body = asdict(self) | {"spec": self.spec.to_json()}
        return {"event": json.dumps(body)}

    @classmethod
    def from_fields(cls, fields: dict[Any, Any]) -> "JobEvent":
        """Decode a stream entry written by `to_fields` (bytes keys from a stream, str from the bot's batch hash)."""
        raw: Any = fields.get(b"event", fields.get("event"))
        body = json.loads(raw)
        # An unknown kind raises ValueError here: delivery logs the entry and leaves it pending, as for any entry it cannot read.
        body["kind"] = EventKind(body["kind"])
        body["spec"] = JobSpec.from_json(body["spec"])
        body["images"] = [ResultImage(**image) for image in body["images"]]
        return cls(**body)


# Append a job's event only if it was not published before, and mark it published with the entry's id,
# atomically: a job re-run after its worker died past publishing, or failed by a sweep after it
# published, adds nothing; the id is what `withdraw` deletes the entry by.
#
# Past ARGV[2] entries the stream is trimmed, but only below the oldest entry some consumer group
# still needs: its oldest pending one (read, not acknowledged), else its last read one (everything
# after it is unread). A count alone (MAXLEN) would drop albums nobody delivered while the bot was
# down; with no group yet (no bot ever started) nothing is trimmed.
PUBLISH_ONCE = """
if redis.call('EXISTS', KEYS[2]) == 1 then
  return false
end
local entry_id = redis.call('XADD', KEYS[1], '*', 'event', ARGV[3])
redis.call('SET', KEYS[2], entry_id, 'EX', ARGV[1])
if redis.call('XLEN', KEYS[1]) > tonumber(ARGV[2]) then
  local function parsed(id)
    local ms, seq = string.match(id, '^(%d+)-(%d+)$')
    return tonumber(ms), tonumber(seq)
  end
  local floor, floor_ms, floor_seq
  for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local info = {}
    for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
    local needed = info['last-delivered-id']
    if tonumber(info['pending']) > 0 then
      needed = redis.call('XPENDING', KEYS[1], info['name'])[2]
    end
    local ms, seq = parsed(needed)
    if floor == nil or ms < floor_ms or (ms == floor_ms and seq < floor_seq) then
      floor, floor_ms, floor_seq = needed, ms, seq
    end
  end
  if floor then
    redis.call('XTRIM', KEYS[1], 'MINID', floor)
  end
end
return entry_id
"""


def publish(redis: Redis, stream: str, event: JobEvent, kept: int = 10_000) -> str | None:
    """Append a job's one final event to the stream (trimmed past `kept` entries, never of an undelivered one).

    Returns its entry id, or None if the job had published already."""
    keys = [stream, PUBLISHED_KEY + event.job_id]
    entry_id = cast(
        bytes | None, redis.eval(PUBLISH_ONCE, len(keys), *keys, PUBLISHED_TTL_S, kept, event.to_fields()["event"])
    )
    return entry_id.decode() if entry_id else None


def withdraw(redis: Redis, stream: str, job_ids: list[str]) -> int:
    """Delete the stream entries of these jobs' events (a seller's /forget); return how many were there."""
    if not job_ids:
        return 0
    marks = cast(list[bytes | None], redis.mget([PUBLISHED_KEY + job_id for job_id in job_ids]))
    # Marks set before they held the entry id hold the event's kind ("done"): nothing to delete by.
    entry_ids = [mark for mark in marks if mark and b"-" in mark]
    return cast(int, redis.xdel(stream, *entry_ids)) if entry_ids else 0


def keys_for(job_id: str) -> list[str]:
    """A job's mark that its event was published (its stream entry goes by `withdraw`), for /forget to delete."""
    return [PUBLISHED_KEY + job_id]


def published(redis: Redis, job_id: str) -> bool:
    """True once a job's result or final failure is on the stream."""
    return bool(redis.exists(PUBLISHED_KEY + job_id))
