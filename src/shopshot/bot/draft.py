"""The conversation's choices, typed: what aiogram keeps for a seller in the FSM data, as JSON in Redis.

A Draft reads the stored dict with the defaults the flows used to repeat at each `data.get(...)`,
and writes back the same keys and JSON shapes; a conversation stored by an older bot (keys
missing, or ones no longer used) loads with those defaults, and keys the Draft does not know are
left out of it.
"""

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, TypeVar

from aiogram.fsm.context import FSMContext

from shopshot.bot.file_names import PLAIN_PHOTO
from shopshot.pipeline.packs import pack
from shopshot.pipeline.tasks import Task
from shopshot.queue.spec import JobSpec

DEFAULT_RATIO, DEFAULT_VARIANTS = "1:1", 2  # a backdrop's first choice of format and count
T = TypeVar("T")


@dataclass(frozen=True)
class Draft:
    """One seller's conversation from the photo to Confirm."""

    # The photo (intake): its blob key, size, file stem, and the products found where it has several.
    image_key: str | None = None
    width: int = 0
    height: int = 0
    photo_name: str = PLAIN_PHOTO
    candidates: list[list[float]] = field(default_factory=list)  # each a box (x0, y0, x1, y1 in shares)
    chosen: list[int] = field(default_factory=list)  # the candidates' numbers toggled on, from 1
    keep: list[list[float]] = field(default_factory=list)  # the boxes of the products kept
    backend: str | None = None  # the one serving the task when the photo came
    # The choices.
    task: Task = Task.BACKDROP
    model: str | None = None
    preset: str | None = None
    ratio: str = DEFAULT_RATIO
    variants: int = DEFAULT_VARIANTS
    pack: str | None = None
    prompt_extra: str = ""
    seed: int | None = None  # a saved look's seed family; None: a new one at Confirm
    # The conversation itself.
    looks: list[str] = field(default_factory=list)  # the saved looks offered with the photo, as Look.to_json
    since_message_id: int | None = None  # buttons under older messages are stale
    job_id: str | None = None  # planned with the summary: its Confirm queues it once
    changing: bool = False  # one choice changed from the summary: back to it after
    batch: dict | None = None  # the batch being collected (bot/batch.py)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "Draft":
        """The draft of stored FSM data; missing keys get their defaults, unknown ones are dropped."""
        known = {name: data[name] for name in _NAMES if name in data}
        if "task" in known:
            known["task"] = Task(known["task"])  # an unknown task fails here, as the flows' Task(...) did
        return cls(**known)

    @classmethod
    async def load(cls, state: FSMContext) -> "Draft":
        """The seller's draft as stored now."""
        return cls.from_data(await state.get_data())

    def to_data(self) -> dict[str, Any]:
        """The FSM data of this draft: JSON values under the keys the flows have always used.

        A choice not made is left out, not stored as null, as the flows stored it: a replica still
        running the previous version (a rolling deploy) reads "no photo yet" from a missing key.
        """
        return {name: value for name, value in asdict(self).items() if value is not None}

    async def save(self, state: FSMContext) -> None:
        """Store this draft as the seller's whole conversation data."""
        await state.set_data(self.to_data())

    @classmethod
    async def update(cls, state: FSMContext, **changes: Any) -> "Draft":
        """Change some choices of the stored draft, as `state.update_data` would; the draft as stored now."""
        draft = (await cls.load(state)).with_changes(**changes)
        await draft.save(state)
        return draft

    def with_changes(self, **changes: Any) -> "Draft":
        """A copy with some choices replaced."""
        return replace(self, **changes)

    # The choices a step relies on being made: a draft without one raises KeyError, as the stored dict did.
    @property
    def photo_key(self) -> str:
        """The photo's key: every step after intake has one."""
        return _made(self.image_key, "image_key")

    @property
    def preset_key(self) -> str:
        """The backdrop chosen: the options, the summary and Confirm come after it."""
        return _made(self.preset, "preset")

    @property
    def model_key(self) -> str:
        """The fashion model chosen, for a model task's steps after it."""
        return _made(self.model, "model")

    @property
    def photo_backend(self) -> str:
        """The backend that served the task when the photo came: intake (or the batch) records it."""
        return _made(self.backend, "backend")

    @property
    def collected(self) -> dict:
        """The batch being collected, where the conversation is a batch's."""
        return _made(self.batch, "batch")

    @property
    def makes_backdrop(self) -> bool:
        """A backdrop task's draft: formats, packs and saved looks are on offer."""
        return self.task == Task.BACKDROP

    @property
    def images(self) -> int:
        """How many images the summary's job makes: a marketplace pack's shots, else the variants chosen."""
        return len(pack(self.pack).shots) if self.pack else self.variants

    @property
    def photo_count(self) -> int:
        """How many photos Confirm queues: those of the batch, else one."""
        return len(self.batch["photos"]) if self.batch else 1

    def to_spec(
        self, chat_id: int, user_id: int, status_message_id: int, backend: str, language: str, new_seed: int
    ) -> JobSpec:
        """The job Confirm queues for this draft: with a saved look's seed family, else with `new_seed`."""
        return JobSpec(
            chat_id=chat_id,
            user_id=user_id,
            status_message_id=status_message_id,
            image_key=self.photo_key,
            preset=self.preset_key,
            ratio=self.ratio,
            variants=self.images,
            seed=new_seed if self.seed is None else self.seed,
            language=language,
            backend=backend,
            task=self.task,
            model=self.model,
            prompt_extra=self.prompt_extra,
            photo_name=self.photo_name,
            keep=tuple((x0, y0, x1, y1) for x0, y0, x1, y1 in self.keep),
            pack=self.pack,
        )


_NAMES = tuple(f.name for f in fields(Draft))


def _made(value: T | None, name: str) -> T:
    if value is None:
        raise KeyError(name)
    return value
