"""A seller's whole conversation played against the stand-in: used by `make run` and the tests."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shopshot.bot.callbacks import BackdropPicked, OptionPicked, ProductPicked, ResultAction, Step, ratio_to_data
from shopshot.playground.client import StandInClient


@dataclass(frozen=True)
class Choices:
    preset: str = "studio"
    ratio: str = "4:5"  # the smallest target (1080×1350): the quickest full conversation
    variants: int = 2


@dataclass
class Transcript:
    out: Path
    messages: list[dict] = field(default_factory=list)
    images: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines for the terminal: what the bot sent and where it was written."""
        lines = [f"shopshot: the scripted conversation is in {self.out}/conversation.md"]
        lines += [f"  album image: {path}" for path in self.images]
        lines += [f"  full-resolution file: {path}" for path in self.files]
        return "\n".join(lines)


def buttons(message: dict) -> list[dict]:
    """The inline buttons of a bot message, flattened."""
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def with_button(prefix: str):
    """A `wait_for` predicate: the newest bot message that has a button whose data starts with `prefix`."""

    def find(messages: list[dict]) -> dict | None:
        for message in reversed(messages):
            if any(button.get("callback_data", "").startswith(prefix) for button in buttons(message)):
                return message
        return None

    return find


def newer_than(count: int):
    """A `wait_for` predicate: the bot's messages once there are more than `count`."""
    return lambda messages: messages if len(messages) > count else None


async def play_conversation(
    api_url: str,
    user_id: int,
    photo: bytes,
    out: Path,
    choices: Choices = Choices(),
    language: str = "en",
    timeout: float = 120.0,
) -> Transcript:
    """Send /start and a photo, choose a backdrop and options, confirm, and save what comes back."""
    async with StandInClient(api_url) as api:
        await api.send_text(user_id, "/start", language_code=language)
        await api.wait_for(user_id, newer_than(0))
        await api.send_photo(user_id, photo, language_code=language)
        summary = await reach_summary(api, user_id, choices, language)
        await api.press(user_id, summary["message_id"], data=Step(action="confirm").pack(), language_code=language)
        await api.wait_for(user_id, with_button(f"{ResultAction.__prefix__}:"), timeout=timeout)
        return await save_transcript(api, user_id, out)


async def reach_summary(api: StandInClient, user_id: int, choices: Choices = Choices(), language: str = "en") -> dict:
    """From the gallery to the summary: pick the backdrop and the options, press Continue; return the summary."""
    gallery = await api.wait_for(user_id, with_button(f"{BackdropPicked.__prefix__}:"))
    await api.press(
        user_id, gallery["message_id"], data=BackdropPicked(key=choices.preset).pack(), language_code=language
    )
    await choose_options(api, user_id, choices, language)
    return await api.wait_for(user_id, with_button(Step(action="confirm").pack()))


async def choose_products(
    api: StandInClient, user_id: int, numbers: Sequence[int] | None = None, language: str = "en"
) -> dict:
    """On the picture of a photo's products: tick the candidates `numbers` and Continue, or (None) keep them all; return it."""
    offer = await api.wait_for(user_id, with_button(f"{ProductPicked.__prefix__}:"))
    if numbers is None:
        await api.press(user_id, offer["message_id"], data=ProductPicked(action="all").pack(), language_code=language)
        return offer
    for edits, number in enumerate(numbers, start=offer["edits"]):
        await api.press(
            user_id,
            offer["message_id"],
            data=ProductPicked(action="toggle", number=number).pack(),
            language_code=language,
        )
        await api.wait_for(user_id, lambda messages: _edited(messages, offer["message_id"], edits))  # noqa: B023 (awaited here)
    await api.press(user_id, offer["message_id"], data=ProductPicked(action="continue").pack(), language_code=language)
    return offer


async def choose_options(api: StandInClient, user_id: int, choices: Choices, language: str) -> None:
    """Pick ratio and variants on the options message, then Continue."""
    options = await api.wait_for(user_id, with_button(f"{OptionPicked.__prefix__}:"))
    picks = [
        OptionPicked(name="ratio", value=ratio_to_data(choices.ratio)),
        OptionPicked(name="variants", value=str(choices.variants)),
    ]
    for pick in picks:
        current = await api.wait_for(user_id, with_button(f"{OptionPicked.__prefix__}:"))
        if not any(
            button["callback_data"] == pick.pack() and button["text"].startswith("✓") for button in buttons(current)
        ):
            edits = current["edits"]
            await api.press(user_id, options["message_id"], data=pick.pack(), language_code=language)
            await api.wait_for(user_id, lambda messages: _edited(messages, options["message_id"], edits))  # noqa: B023 (awaited here)
    await api.press(user_id, options["message_id"], data=Step(action="continue").pack(), language_code=language)


def _edited(messages: list[dict], message_id: int, edits: int) -> bool:
    return any(message["message_id"] == message_id and message["edits"] > edits for message in messages)


async def save_transcript(api: StandInClient, user_id: int, out: Path) -> Transcript:
    """Write every message of the chat and every image the bot sent into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    transcript = Transcript(out=out, messages=await api.history(user_id))
    lines = ["# shopshot: a scripted conversation", ""]
    lines += [await _record(api, message, transcript) for message in transcript.messages]
    (out / "conversation.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "conversation.json").write_text(
        json.dumps(transcript.messages, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return transcript


async def _record(api: StandInClient, message: dict, transcript: Transcript) -> str:
    who = "**bot**" if message["from_bot"] else "**seller**"
    text = message.get("text") or message.get("caption") or ""
    line = f"- {who}: {text}".rstrip()
    if not message["from_bot"] and message["kind"] != "text":
        line += f" [{message['kind']}]"
    if message["from_bot"] and message["kind"] in ("photo", "document") and message.get("file_id"):
        path = await _save_file(api, message, transcript.out)
        if message["kind"] == "document":
            transcript.files.append(path)
        elif not message.get("caption"):  # the gallery has a caption; result photos do not
            transcript.images.append(path)
        line += f" [{message['kind']}: {path.name}]"
    labels = [button["text"] for button in buttons(message)]
    return line + (f"  \n  buttons: {' | '.join(labels)}" if labels else "")


async def _save_file(api: StandInClient, message: dict, out: Path) -> Path:
    suffix = ".jpg" if message["kind"] == "photo" else Path(message.get("file_name") or "file.bin").suffix
    path = out / f"{message['message_id']:03d}-{message['kind']}{suffix}"
    path.write_bytes(await api.download(message["file_id"]))
    return path
