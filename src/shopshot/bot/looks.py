"""Saved looks: a seller's backdrop, format, pack and seed family, kept to offer first with the next photo.

One list per seller in Redis, newest first, at most MAX_LOOKS; this module alone names its key.
"""

import hashlib
import json
from collections.abc import Awaitable, Sequence
from dataclasses import asdict, dataclass
from typing import cast

from aiogram.fsm.context import FSMContext
from redis.asyncio import Redis

from shopshot.bot.draft import Draft
from shopshot.errors import InvalidOption
from shopshot.pipeline.layout import ratio
from shopshot.pipeline.packs import pack
from shopshot.pipeline.presets import backdrop
from shopshot.pipeline.tasks import Task
from shopshot.queue.spec import JobSpec

LOOKS_KEY = "shopshot:looks:"
MAX_LOOKS = 3  # the first buttons of a gallery page: more would push the backdrops out of sight
LOOKS_TTL_S = 180 * 24 * 3600  # renewed on each save, as the one-off hints are


@dataclass(frozen=True)
class Look:
    """What a backdrop job was made with, less the photo: the same look on the same photo gives the same images."""

    preset: str
    ratio: str
    variants: int
    seed: int  # the job's first seed: the family its images' seeds come from
    pack: str | None = None
    prompt_extra: str = ""

    @property
    def id(self) -> str:
        """A short name for buttons (callback data holds 64 bytes), the same for the same look."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:12]

    def to_json(self) -> str:
        """Serialise for Redis and the conversation's data."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> "Look":
        """A look written by `to_json`; raises InvalidOption where its backdrop, format or pack no longer exists."""
        look = cls(**json.loads(text))
        backdrop(look.preset)
        ratio(look.ratio)
        if look.pack is not None:
            pack(look.pack)
        return look

    def choices(self) -> dict:
        """The conversation data that makes this look's summary (and its Confirm, this look's seed)."""
        return {
            "task": Task.BACKDROP,
            "model": None,
            "preset": self.preset,
            "ratio": self.ratio,
            "variants": self.variants,
            "pack": self.pack,
            "seed": self.seed,
            "prompt_extra": self.prompt_extra,
        }


def look_of(spec: JobSpec) -> Look:
    """The look a finished backdrop job was made with."""
    return Look(spec.preset, spec.ratio, spec.variants, spec.seed, spec.pack, spec.prompt_extra)


class SavedLooks:
    """Each seller's saved looks, newest first."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def save(self, user_id: int, look: Look) -> None:
        """Keep a look first; one saved before moves to the front, the oldest past MAX_LOOKS goes."""
        key, value = LOOKS_KEY + str(user_id), look.to_json()
        pipe = self.redis.pipeline(transaction=True)
        pipe.lrem(key, 0, value)
        pipe.lpush(key, value)
        pipe.ltrim(key, 0, MAX_LOOKS - 1)
        pipe.expire(key, LOOKS_TTL_S)
        await pipe.execute()

    async def of(self, user_id: int) -> list[Look]:
        """A seller's saved looks, newest first; one this version cannot make any more is left out."""
        looks = []
        for value in await cast(Awaitable[list[bytes]], self.redis.lrange(LOOKS_KEY + str(user_id), 0, MAX_LOOKS - 1)):
            try:
                looks.append(Look.from_json(value))
            except (InvalidOption, TypeError, ValueError):
                continue
        return looks

    async def forget(self, user_id: int) -> None:
        """Delete a seller's saved looks (their /forget)."""
        await self.redis.delete(LOOKS_KEY + str(user_id))


async def offer_looks(state: FSMContext, looks: Sequence[Look]) -> None:
    """Keep the looks offered with a new photo in its conversation, so every page of its first step shows the same ones."""
    await (await Draft.load(state)).with_changes(looks=[look.to_json() for look in looks]).save(state)


def offered_looks(draft: Draft) -> list[Look]:
    """The saved looks a conversation's first step offers: until a backdrop (or another task) is chosen."""
    if draft.preset or not draft.makes_backdrop:
        return []
    return [Look.from_json(value) for value in draft.looks]


def offered_look(draft: Draft, look_id: str) -> Look | None:
    """The offered look with this id; None for one no longer offered (or forged)."""
    return next((look for look in offered_looks(draft) if look.id == look_id), None)
