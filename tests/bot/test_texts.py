"""The bot's messages in every language: plurals, numbers, durations, and Arabic progress that reads right."""

import unicodedata
from datetime import timedelta

import pytest
from babel.dates import format_timedelta

from shopshot import errors
from shopshot.bot import app, texts
from shopshot.queue.enqueue import JobState
from tests.languages import LANGUAGES

LRI, RLI, PDI = "\u2066", "\u2067", "\u2069"


@pytest.fixture
def speak(catalogs):
    """Render inside one language, as a handler does."""

    def render(language: str, make):
        with catalogs.context(), catalogs.use_locale(language):
            return make()

    return render


@pytest.mark.parametrize("language", LANGUAGES)
def test_status_shows_position_and_a_duration_in_the_language(speak, catalogs, language):
    queued = speak(language, lambda: texts.status(JobState("queued", 3, 0.0, 0.0), typical_job_s=20))
    started = speak(language, lambda: texts.status(JobState("started", None, 0.5, 10.0), typical_job_s=20))
    template = catalogs.gettext("⏳ In the queue: position {position}. Starting in about {wait}.", locale=language)
    assert queued == template.format(
        position=3, wait=format_timedelta(timedelta(seconds=60), locale=language, threshold=1.1)
    )
    assert texts.bar(0.5) in started and "50" in started
    assert format_timedelta(timedelta(seconds=10), locale=language, threshold=1.1) in started


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_wait_is_shared_by_the_live_workers_and_an_offline_studio_is_said(speak, catalogs, language):
    queued = JobState("queued", 3, 0.0, 0.0)
    template = catalogs.gettext("⏳ In the queue: position {position}. Starting in about {wait}.", locale=language)
    two_workers = speak(
        language, lambda: texts.status(queued, typical_job_s=20, workers=2)
    )  # jobs 1-2 start now, 3 next
    assert two_workers == template.format(
        position=3, wait=format_timedelta(timedelta(seconds=40), locale=language, threshold=1.1)
    )
    offline = catalogs.gettext(
        "⏳ In the queue: position {position}. The studio is offline right now; your job starts as soon as it is back.",
        locale=language,
    )
    assert speak(language, lambda: texts.status(queued, typical_job_s=20, workers=0)) == offline.format(position=3)


@pytest.mark.parametrize("language", [language for language in LANGUAGES if language != "en"])
def test_durations_are_worded_in_the_language(speak, language):
    assert speak(language, lambda: texts.duration(5)) != speak("en", lambda: texts.duration(5))


def test_counts_take_each_languages_plural_forms(speak):
    assert [
        speak("ru", lambda n=n: texts.summary("white", "1:1", n, (2400, 3000))).split("\n")[3] for n in (1, 2, 5)
    ] == ["• Количество: 1 снимок", "• Количество: 2 снимка", "• Количество: 5 снимков"]
    assert speak("ar", lambda: texts.done(2)).startswith("✅ صورتاك جاهزتان.")
    assert speak("ar", lambda: texts.done(3)).startswith("✅ 3 صور جاهزة.")
    assert speak("fr", lambda: texts.done(1)).startswith("✅ 1 image prête.")


def test_numbers_in_error_messages_follow_the_locale(speak):
    too_big = {"size_mb": 24.5, "limit_mb": 20}
    assert "24,5 MB" in speak("de", lambda: texts.describe(errors.FileTooLarge, too_big))
    assert "24.5 MB" in speak("en", lambda: texts.describe(errors.FileTooLarge, too_big))
    assert "8\u00a0000×6\u00a0000" in speak(
        "ru", lambda: texts.describe(errors.ImageTooLarge, {"width": 8000, "height": 6000, "limit_mp": 40})
    )
    assert "GIF" in speak("es", lambda: texts.describe(errors.UnsupportedFormat, {"kind": "GIF"}))


def test_arabic_progress_keeps_the_bar_and_percentage_together_and_in_order(speak):
    text = speak("ar", lambda: texts.status(JobState("started", None, 0.42, 4.0), typical_job_s=20))
    gauge = RLI + "▓▓▓▓░░░░░░ 42%" + PDI
    assert gauge in text
    assert text.index("▓") < text.index("42") < text.index("%") < text.index(PDI)
    # Inside the isolate only neutrals and European digits: nothing that could pull it apart.
    inside = gauge[1:-1]
    assert {unicodedata.bidirectional(char) for char in inside} <= {"ON", "WS", "EN", "ET"}


def test_left_to_right_languages_get_no_invisible_marks(speak):
    text = speak("en", lambda: texts.status(JobState("started", None, 0.5, 4.0), typical_job_s=20))
    assert "▓▓▓▓▓░░░░░ 50%" in text
    assert not {RLI, LRI, PDI} & set(text)


def test_percentages_follow_the_locale(speak):
    assert speak("tr", lambda: texts.gauge(0.42)).endswith("%42")
    assert speak("de", lambda: texts.gauge(0.42)).endswith("42\u00a0%")


class MenuRecorder:
    """Just enough of a Bot to keep the command menus the bot would publish, by language code."""

    def __init__(self) -> None:
        self.menus: dict[str | None, dict[str, str]] = {}

    async def set_my_commands(self, commands, language_code=None) -> None:
        self.menus[language_code] = {command.command: command.description for command in commands}


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_names_forget_in_every_language(speak, language):
    shown = speak(language, texts.help_text)
    assert "/forget" in shown
    assert language == "en" or shown != speak("en", texts.help_text)  # translated, not the English fallback


async def test_the_command_menu_offers_forget_in_every_language(catalogs):
    recorder = MenuRecorder()
    await app._set_commands(recorder, catalogs)
    english = recorder.menus.pop(None)["forget"]
    assert len(recorder.menus) >= 14
    assert {
        code: menu.get("forget", english)
        for code, menu in recorder.menus.items()
        if menu.get("forget", english) == english
    } == {}
