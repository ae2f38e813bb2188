"""The job spec: everything a worker needs to render one request, as JSON-safe values."""

import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from shopshot.pipeline.tasks import Task


@dataclass(frozen=True)
class JobSpec:
    chat_id: int
    user_id: int
    status_message_id: int
    image_key: str
    preset: str
    ratio: str
    variants: int
    seed: int
    language: str
    backend: str = "studio"
    task: Task = Task.BACKDROP
    model: str | None = None  # a model preset, for the person tasks
    prompt_extra: str = ""  # the seller's optional one-line addition to a backdrop
    photo_name: str = "photo"  # the stem the seller's file had, made safe: it starts the result files' names
    # The boxes (x0, y0, x1, y1 in shares of the photo) of the products the seller kept, where the
    # photo had several; empty: the automatic cut-out, everything found.
    keep: tuple[tuple[float, float, float, float], ...] = ()
    pack: str | None = None  # a marketplace pack (`pipeline.packs`): its images instead of `variants` of one format
    # A photo of a batch (bot/batch.py): the batch's id, the photo's number in it (from 1) and how many
    # jobs the batch has; empty, 0, 0 for a photo on its own.
    batch_id: str = ""
    batch_number: int = 0
    batch_size: int = 0

    def to_json(self) -> str:
        """Serialise for RQ arguments and Redis values."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> "JobSpec":
        """Parse a spec written by `to_json`."""
        fields = json.loads(text)
        fields["keep"] = tuple(tuple(box) for box in fields.get("keep", ()))  # JSON gives lists back
        fields["task"] = Task(fields.get("task", Task.BACKDROP))  # an unknown task fails here, not in a backend
        return cls(**fields)

    def with_changes(self, **changes: Any) -> "JobSpec":
        """Return a copy with some fields replaced."""
        return replace(self, **changes)
