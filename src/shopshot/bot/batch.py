"""A batch: the photos of one send (an album, and the albums or photos right after it), made in one look.

Collecting happens in the conversation's FSM data, which aiogram keeps in Redis and updates one
update of a seller at a time on every replica (bot/isolation.py): the photos of an album may reach
different replicas as separate updates and still land in one batch. The batch's photos are numbered
in the order the seller sent them (by message id), whatever order their updates were handled in.

Once confirmed, a batch is a record in Redis (`BatchBook`, the one owner of BATCH_KEY): which job makes
which photo, the photos refused at intake, and each job's final event as it comes. The last event
completes the record, and the batch is delivered as a whole (bot/delivery.py).

Every job of a batch has the same preset, format, variants and seed, so the same look (light, floor
line, backdrop variant) and the same layout rule: each product fills the same share of its canvas.
"""

import json
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import cast

from redis.asyncio import Redis

from shopshot.queue.events import JobEvent
from shopshot.queue.spec import JobSpec

BATCH_KEY = "shopshot:batch:"
# Telegram has no "album finished" signal and sends an album of more than ten as several messages
# (10 + 2, or 10 + a lone 11th): photos this soon after the batch's latest are the rest of that send.
BATCH_WINDOW_S = 10


@dataclass(frozen=True)
class BatchPhoto:
    """An accepted photo of a batch: its number in the send, its stored key, file stem and upright size."""

    number: int
    image_key: str
    photo_name: str
    width: int
    height: int


def new_collection(media_group_id: str | None, sent_at: float) -> dict:
    """The FSM data of a batch starting with a photo sent at `sent_at` (epoch seconds)."""
    return {"groups": [media_group_id] if media_group_id else [], "at": sent_at, "photos": [], "refused": []}


def joins(batch: dict | None, media_group_id: str | None, sent_at: float) -> bool:
    """True for a photo that belongs to the batch being collected: one of its albums, or sent within the window of its latest photo."""
    if not batch:
        return False
    return (media_group_id is not None and media_group_id in batch["groups"]) or 0 <= sent_at - batch[
        "at"
    ] <= BATCH_WINDOW_S


def with_photo(
    batch: dict, message_id: int, media_group_id: str | None, sent_at: float, photo: tuple[str, str, int, int]
) -> dict:
    """The batch with an accepted photo (key, name, width, height) added."""
    return _with(batch, media_group_id, sent_at, photos=[*batch["photos"], [message_id, *photo]])


def with_refusal(
    batch: dict, message_id: int, media_group_id: str | None, sent_at: float, error: str, params: dict
) -> dict:
    """The batch with a photo that could not be used, by the error's code and parameters."""
    return _with(batch, media_group_id, sent_at, refused=[*batch["refused"], [message_id, error, params]])


def _with(batch: dict, media_group_id: str | None, sent_at: float, **lists: list) -> dict:
    groups = batch["groups"] + ([media_group_id] if media_group_id and media_group_id not in batch["groups"] else [])
    return {**batch, **lists, "groups": groups, "at": max(batch["at"], sent_at)}


def numbered(batch: dict) -> tuple[list[BatchPhoto], dict[int, tuple[str, dict]]]:
    """The accepted photos and the refused ones (number -> error, params), numbered in the order they were sent."""
    order = sorted([entry[0] for entry in batch["photos"]] + [entry[0] for entry in batch["refused"]])
    number = {message_id: index for index, message_id in enumerate(order, start=1)}
    photos = sorted(
        (BatchPhoto(number[message_id], *rest) for message_id, *rest in batch["photos"]), key=lambda photo: photo.number
    )
    return photos, {number[message_id]: (error, params) for message_id, error, params in batch["refused"]}


def batch_specs(first: JobSpec, photos: list[BatchPhoto], batch_id: str, job_ids: list[str]) -> dict[str, JobSpec]:
    """One spec per photo (under the given job ids), all with the look and seed of `first`; the file names start with the photo's number."""
    return {
        job_id: first.with_changes(
            image_key=photo.image_key,
            photo_name=f"{photo.number:02d}-{photo.photo_name}",
            batch_id=batch_id,
            batch_number=photo.number,
            batch_size=len(photos),
        )
        for job_id, photo in zip(job_ids, photos, strict=True)
    }


@dataclass(frozen=True)
class BatchResults:
    """A confirmed batch as its record holds it: where its status is, its jobs by photo number, and what became of each."""

    batch_id: str
    chat_id: int
    user_id: int
    status_message_id: int
    language: str
    jobs: dict[str, int]  # job id -> photo number
    refused: dict[int, tuple[str, dict]]  # photo number -> error code, params (at intake)
    events: dict[str, JobEvent] = field(default_factory=dict)  # job id -> its final event, as they come

    @property
    def complete(self) -> bool:
        """Every job has its final event: the batch can be delivered."""
        return set(self.jobs) <= set(self.events)

    def in_order(self) -> list[tuple[int, JobEvent]]:
        """The events by photo number."""
        return sorted((self.jobs[job_id], event) for job_id, event in self.events.items())


class BatchBook:
    """The records of confirmed batches in Redis, shared by every replica."""

    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def open(self, batch_id: str, specs: dict[str, JobSpec], refused: dict[int, tuple[str, dict]]) -> None:
        """Record a batch about to be queued: its jobs (all sharing the status message and language of the first) and its refusals."""
        first = next(iter(specs.values()))
        meta = {
            "chat_id": first.chat_id,
            "user_id": first.user_id,
            "status_message_id": first.status_message_id,
            "language": first.language,
            "jobs": {job_id: spec.batch_number for job_id, spec in specs.items()},
            "refused": {str(number): list(refusal) for number, refusal in refused.items()},
        }
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(BATCH_KEY + batch_id, "meta", json.dumps(meta))
        pipe.expire(BATCH_KEY + batch_id, self.ttl_s)
        await pipe.execute()

    async def record(self, event: JobEvent) -> BatchResults | None:
        """Keep a batch job's final event (again, harmlessly, when redelivered); return the batch as it stands, or None if unrecorded."""
        key = BATCH_KEY + event.spec.batch_id
        if not await cast(Awaitable[bool], self.redis.hexists(key, "meta")):
            return None
        await cast(Awaitable[int], self.redis.hset(key, "job:" + event.job_id, event.to_fields()["event"]))
        return await self.results(event.spec.batch_id)

    async def results(self, batch_id: str) -> BatchResults | None:
        """The batch's record, None once it is gone."""
        fields = {
            name.decode(): value
            for name, value in (
                await cast(Awaitable[dict[bytes, bytes]], self.redis.hgetall(BATCH_KEY + batch_id))
            ).items()
        }
        if "meta" not in fields:
            return None
        meta = json.loads(fields.pop("meta"))
        events = {name.removeprefix("job:"): JobEvent.from_fields({"event": value}) for name, value in fields.items()}
        refused = {int(number): (error, params) for number, (error, params) in meta["refused"].items()}
        return BatchResults(
            batch_id,
            meta["chat_id"],
            meta["user_id"],
            meta["status_message_id"],
            meta["language"],
            meta["jobs"],
            refused,
            events,
        )

    async def delete(self, batch_id: str) -> None:
        """Drop a batch's record (delivered, or forgotten)."""
        await self.redis.delete(*self.keys_for(batch_id))

    @staticmethod
    def keys_for(batch_id: str) -> list[str]:
        """The keys of a batch's record, for /forget to delete with the seller's other keys (a job's id names none)."""
        return [BATCH_KEY + batch_id]
