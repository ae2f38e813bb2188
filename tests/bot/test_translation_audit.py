"""Everything a seller can read is marked for translation.

The bot runs in a pseudo-locale whose catalog, built from the strings extracted now, wraps every
translation in ⟦…⟧. Each message, caption, button label and callback answer of the conversation,
and every text function, keyboard and error message rendered directly, must then be nothing but
marked parts plus non-words: digits, emoji and symbols, ratio keys, seeds, /commands, language and marketplace names.
"""

import re
import unicodedata
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from shopshot import errors
from shopshot.bot import app, keyboards, texts
from shopshot.bot.callbacks import (
    BackdropPicked,
    ChangePicked,
    ForgetChoice,
    GalleryPage,
    LanguagePicked,
    OptionPicked,
    ResultAction,
    Step,
    ratio_to_data,
)
from shopshot.bot.languages import native_name
from shopshot.pipeline.gallery import sample_photo
from shopshot.pipeline.layout import RATIOS, VARIANT_CHOICES
from shopshot.pipeline.packs import MESSAGES, Finding, Verdict, pack, packs, precheck
from shopshot.pipeline.people import MODEL_PRESETS
from shopshot.pipeline.presets import BACKDROPS
from shopshot.playground.scripted import buttons, newer_than, with_button
from shopshot.queue.enqueue import ACTIVE_KEY, JobState
from shopshot.queue.events import JobEvent, ResultImage, publish
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import open_store
from tests.languages import DOMAIN, LANGUAGES, every_keyboard, extract_template

# World English: a locale Babel has data for (durations and numbers still format) that no catalog uses.
PSEUDO = "en_001"
MARKED = re.compile("⟦[^⟦⟧]*⟧")
COMMAND = re.compile(r"/[a-z_]+")
USER = 733


def mark(text: str) -> str:
    """The pseudo-translation of a source string."""
    return f"⟦{text}⟧"


def words_left(text: str) -> str:
    """The letters of a shown text outside its marked parts, /commands and language names."""
    previous = None
    while previous != text:
        previous, text = text, MARKED.sub("", text)
    # Proper names, written as their owners write them: languages in their own words, marketplaces (the pack list).
    names = {native_name(code) for code in [*LANGUAGES, PSEUDO]} | {item.name for item in packs().values()}
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "")
    return "".join(char for char in COMMAND.sub("", text) if unicodedata.category(char)[0] == "L" or char in "⟦⟧")


@pytest.fixture(scope="module")
def pseudo_locales(tmp_path_factory) -> Path:
    """A locales folder with one catalog, PSEUDO, marking every string extracted from the source."""
    folder = tmp_path_factory.mktemp("pseudo")
    template = extract_template(folder / f"{DOMAIN}.pot")
    catalog = Catalog(locale=PSEUDO, domain=DOMAIN)
    for message in template:
        if message.id:
            string = tuple(map(mark, message.id)) if message.pluralizable else mark(message.id)
            catalog.add(message.id, string, flags=message.flags)
    mo = folder / PSEUDO / "LC_MESSAGES" / f"{DOMAIN}.mo"
    mo.parent.mkdir(parents=True)
    with mo.open("wb") as file:
        write_mo(file, catalog)
    return folder


@pytest.fixture
def pseudo(pseudo_locales) -> I18n:
    """aiogram's I18n over the pseudo-locale alone."""
    return I18n(path=pseudo_locales, default_locale=PSEUDO, domain=DOMAIN)


@pytest.fixture
def settings(settings, monkeypatch, pseudo_locales):
    """The bot's settings, with the pseudo-locale as its only catalog and its default language."""
    monkeypatch.setattr("shopshot.bot.app.locales_dir", lambda: pseudo_locales)
    settings.default_language = PSEUDO
    return settings


def every_error() -> list[type[errors.ShopshotError]]:
    """ShopshotError and all its subclasses."""
    found, pending = [], [errors.ShopshotError]
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending += kind.__subclasses__()
    return found


def rendered_directly() -> list[str]:
    """Every text function, keyboard label and error message, rendered in the current locale."""
    shown = [
        texts.welcome(),
        texts.help_text(),
        texts.detail_prompt(),
        texts.candidates_prompt(),
        texts.choose_a_candidate(),
        texts.done(1),
        texts.done(2),
        texts.seed_caption(11),
    ]
    shown += [texts.options_prompt(item.key) for item in BACKDROPS]
    sizes = [(640, 800), (2400, 3000)]  # a photo enlarged (with the warning) and a file that keeps its pixels
    shown += [
        texts.summary(item.key, ratio.key, count, size)
        for item in BACKDROPS
        for ratio in RATIOS
        for count in VARIANT_CHOICES
        for size in sizes
    ]
    shown += [
        texts.summary(item.key, "1:1", 2, (2400, 3000), model=person.key)
        for item in BACKDROPS
        for person in MODEL_PRESETS
    ]
    states = [JobState("queued", 2, 0.0, 0.0), JobState("started", None, 0.4, 3.0), JobState("queued", None, 0.0, 0.0)]
    shown += [texts.status(state, typical_job_s=30) for state in states]
    shown += [texts.describe(kind, dict.fromkeys(_fields(kind.message), 7)) for kind in every_error()]
    shown += [texts.error("NoSuchError", {})]
    shown += pack_texts()
    return shown + [button.text for markup in _keyboards() for row in markup.inline_keyboard for button in row]


def pack_texts() -> list[str]:
    """Every pack's summary and each of its rules' verdicts, passed and broken, and a refusal of a photo too small."""
    shown = [texts.packs_prompt(), texts.look_saved()]
    for item in packs().values():
        shown += [texts.pack_summary(item, "oak"), texts.pack_summary(item, "white")]
        shown += [texts.pack_refused(item, refusals) for refusals in [precheck((300, 200), item)] if refusals]
    every_finding = tuple(Finding(None, code, dict.fromkeys(_fields(message), 7)) for code, message in MESSAGES.items())
    for verdict in (
        Verdict(pack("amazon").shots[0].rule, (2000, 2000), every_finding),
        Verdict(pack("shopee").shots[0].rule, (900, 900), ()),
    ):
        shown += [texts.verdict_line(verdict.to_dict()), texts.file_caption(5, verdict.to_dict())]
    shown.append(texts.done(3, [Verdict(pack("amazon").shots[0].rule, (2000, 2000), every_finding[:2]).to_dict()]))
    return shown


def _fields(message: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", message))


def _keyboards():
    return every_keyboard() + [keyboards.languages(list(LANGUAGES), PSEUDO)]


class RecordingBot:
    """Just enough of a Bot to record the command menus the bot would publish."""

    def __init__(self) -> None:
        self.descriptions: list[str] = []

    async def set_my_commands(self, commands, language_code=None) -> None:
        self.descriptions += [command.description for command in commands]


def test_the_audit_catches_unmarked_words():
    assert words_left("⟦Hi⟧ there") == "there"
    assert words_left("⟦Ready: ⟦Pure white⟧, 3:4⟧ ✓ 12 /help · ◀ 1/2 ▶") == ""
    assert words_left("⟦unclosed") == "⟦unclosed"


def test_every_text_function_keyboard_and_error_is_marked(pseudo):
    with pseudo.context(), pseudo.use_locale(PSEUDO):
        shown = rendered_directly()
    assert sum(1 for text in shown if MARKED.search(text)) > 100
    assert [(text, words_left(text)) for text in shown if words_left(text)] == []


async def test_the_command_menu_is_marked(pseudo):
    recorder = RecordingBot()
    await app._set_commands(recorder, pseudo)
    assert recorder.descriptions and [text for text in recorder.descriptions if words_left(text)] == []


async def test_every_reply_of_a_whole_conversation_is_marked(bot, api, redis, settings):
    await _converse(api)
    job_id, spec = _active_job(redis)
    await _deliver(api, redis, settings, job_id, spec)
    await api.send_text(USER, "/cancel")  # the job delivered: nothing is left to cancel
    await api.wait_for(USER, _last_starts_with("⟦There"))
    await api.send_text(USER, "/forget")
    question = await api.wait_for(USER, with_button(f"{ForgetChoice.__prefix__}:"))
    await api.press(USER, question["message_id"], data=buttons(question)[-1]["callback_data"])  # Keep
    await api.wait_for(
        USER,
        lambda messages: next(
            (m for m in messages if m["message_id"] == question["message_id"] and not buttons(m)), None
        ),
    )
    shown = [message.get("text") or message.get("caption") or "" for message in await api.messages(USER)]
    shown += [button["text"] for message in await api.messages(USER) for button in buttons(message)]
    shown += [answer["text"] for answer in await api.callback_answers(USER) if answer["text"]]
    assert len([text for text in shown if text]) > 20
    assert [(text, words_left(text)) for text in shown if words_left(text)] == []


async def _converse(api) -> None:
    # One update at a time: aiogram handles a user's updates concurrently, in no fixed order.
    for text in ("/start", "/help", "hello"):
        await _send_and_wait(api, api.send_text(USER, text))
    await _send_and_wait(api, api.send_document(USER, b"GIF89a", "anim.gif", mime_type="image/gif"))
    await api.send_photo(USER, sample_photo())
    gallery = await api.wait_for(USER, with_button("bd:"))
    await _send_and_wait(api, api.send_text(USER, "hello"))
    await api.press(USER, gallery["message_id"], data=GalleryPage(page=1).pack())
    gallery = await api.wait_for(USER, with_button(BackdropPicked(key="oak").pack()))  # the page turned in place
    await _choose(api, gallery, "oak")
    summary = await api.wait_for(USER, with_button(Step(action="change").pack()))
    await api.press(USER, summary["message_id"], data=Step(action="change").pack())
    choice = await api.wait_for(USER, with_button(f"{ChangePicked.__prefix__}:"))
    await api.press(USER, choice["message_id"], data=ChangePicked(part="backdrop").pack())
    gallery = await api.wait_for(USER, _newer_with_button("bd:", choice["message_id"]))
    await api.press(USER, gallery["message_id"], data=BackdropPicked(key="oak").pack())  # ticked, on its page
    summary = await api.wait_for(USER, _newer_with_button(Step(action="confirm").pack(), gallery["message_id"]))
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    await api.wait_for(USER, _last_starts_with("⟦⏳"))
    await api.forge_callback(USER, gallery["message_id"], BackdropPicked(key="mint").pack())  # a button gone stale
    await api.send_text(USER, "/language")
    menu = await api.wait_for(USER, with_button("lg:"))
    await api.press(USER, menu["message_id"], data=LanguagePicked(code=PSEUDO).pack())
    await api.wait_for(USER, _last_starts_with("⟦Language"))


async def _send_and_wait(api, sending) -> None:
    count = len(await api.messages(USER))
    await sending
    await api.wait_for(USER, newer_than(count))


def _newer_with_button(prefix: str, message_id: int):
    def find(messages: list[dict]) -> dict | None:
        found = with_button(prefix)(messages)
        return found if found and found["message_id"] > message_id else None

    return find


def _last_starts_with(prefix: str):
    return lambda messages: messages if (messages[-1]["text"] or "").startswith(prefix) else None


async def _choose(api, gallery: dict, preset: str) -> None:
    await api.press(USER, gallery["message_id"], data=BackdropPicked(key=preset).pack())
    options = await api.wait_for(USER, _newer_with_button("op:", gallery["message_id"]))
    edits = options["edits"]
    await api.press(USER, options["message_id"], data=OptionPicked(name="ratio", value=ratio_to_data("9:16")).pack())
    await api.wait_for(
        USER, lambda ms: any(m["message_id"] == options["message_id"] and m["edits"] > edits for m in ms)
    )
    await api.press(USER, options["message_id"], data=Step(action="continue").pack())


def _active_job(redis) -> tuple[str, JobSpec]:
    # No worker runs here: the job waits in the queue, and its results are published by hand below.
    [(job_id, spec)] = redis.hgetall(ACTIVE_KEY).items()
    return job_id.decode(), JobSpec.from_json(spec)


async def _deliver(api, redis, settings, job_id: str, spec: JobSpec) -> None:
    photo = open_store(redis, settings).put(sample_photo())
    images = [ResultImage(photo_key=photo, file_key=photo, seed=seed, width=800, height=800) for seed in (41, 42)]
    publish(redis, settings.queue.events_stream, JobEvent("done", job_id, spec, images=images))
    done = await api.wait_for(USER, with_button(f"{ResultAction.__prefix__}:backdrop"))
    welcome = (await api.messages(USER))[0]
    failed = spec.with_changes(status_message_id=welcome["message_id"])
    publish(redis, settings.queue.events_stream, JobEvent("failed", "other", failed, error=errors.NoProductFound.code))
    await api.wait_for(USER, with_button(f"{ResultAction.__prefix__}:retry"))
    await api.press(USER, done["message_id"], data=ResultAction(action="new", job_id=job_id).pack())
    await api.wait_for(USER, _last_starts_with("⟦Send me the next"))
