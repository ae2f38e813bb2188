"""Result and failure events that workers append to a Redis Stream and the bot delivers."""

import json
from dataclasses import asdict, dataclass, field

from redis import Redis

from shopshot.queue.spec import JobSpec

PUBLISHED_KEY = "shopshot:published:"
PUBLISHED_TTL_S = 7 * 24 * 3600


@dataclass(frozen=True)
class ResultImage:
    photo_key: str      # JPEG for the album
    file_key: str       # full-resolution PNG, sent as a document
    seed: int
    width: int
    height: int


@dataclass(frozen=True)
class JobEvent:
    kind: str                       # "done" or "failed"
    job_id: str
    spec: JobSpec
    images: list[ResultImage] = field(default_factory=list)
    error: str = ""                 # ShopshotError subclass name, for the bot to word
    error_params: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_fields(self) -> dict[str, str]:
        """Encode as stream entry fields."""
        body = asdict(self) | {"spec": self.spec.to_json()}
        return {"event": json.dumps(body)}

    @classmethod
    def from_fields(cls, fields: dict) -> "JobEvent":
        """Decode a stream entry written by `to_fields`."""
        raw = fields.get(b"event", fields.get("event"))
        body = json.loads(raw)
        body["spec"] = JobSpec.from_json(body["spec"])
        body["images"] = [ResultImage(**image) for image in body["images"]]
        return cls(**body)


# Mark the job published and append its event only if it was not published before, atomically: a job
# re-run after its worker died past publishing, or failed by a sweep after it published, adds nothing.
PUBLISH_ONCE = """
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', ARGV[2]) then
  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'event', ARGV[4])
end
return false
"""


def publish(redis: Redis, stream: str, event: JobEvent, maxlen: int = 10_000) -> str | None:
    """Append a job's one final event to the stream; return its entry id, or None if the job had published already."""
    keys = [stream, PUBLISHED_KEY + event.job_id]
    entry_id = redis.eval(PUBLISH_ONCE, len(keys), *keys, event.kind, PUBLISHED_TTL_S, maxlen, event.to_fields()["event"])
    return entry_id.decode() if entry_id else None


def published(redis: Redis, job_id: str) -> bool:
    """True once a job's result or final failure is on the stream."""
    return bool(redis.exists(PUBLISHED_KEY + job_id))
