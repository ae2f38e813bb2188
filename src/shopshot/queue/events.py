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


def publish(redis: Redis, stream: str, event: JobEvent, maxlen: int = 10_000) -> str:
    """Append an event to the stream and mark its job published, in one transaction; return its entry id."""
    with redis.pipeline() as pipeline:
        pipeline.xadd(stream, event.to_fields(), maxlen=maxlen, approximate=True)
        pipeline.set(PUBLISHED_KEY + event.job_id, event.kind, ex=PUBLISHED_TTL_S)
        entry_id, _ = pipeline.execute()
    return entry_id.decode()


def published(redis: Redis, job_id: str) -> bool:
    """True once a job's result or final failure is on the stream."""
    return bool(redis.exists(PUBLISHED_KEY + job_id))
