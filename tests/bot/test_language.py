"""The seller's language: from Telegram's language_code, changed with /language, kept in Redis."""

import asyncio

import pytest

from shopshot.bot.callbacks import BackdropPicked, LanguagePicked, Step
from shopshot.bot.languages import native_name, negotiate
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import buttons, newer_than, with_button
from tests.languages import LANGUAGES, TELEGRAM_CODES

USER = 640
pytestmark = pytest.mark.usefixtures("fresh_catalogs")


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("pt-br", "pt_BR"),
        ("pt", "pt_BR"),
        ("pt-pt", "pt_BR"),
        ("zh-hans", "zh_Hans"),
        ("zh-cn", "zh_Hans"),
        ("zh-sg", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("zh-hant", "zh_Hant"),
        ("zh-tw", "zh_Hant"),
        ("zh-hk", "zh_Hant"),
        ("en-gb", "en"),
        ("es-419", "es"),
        ("fr-ca", "fr"),
        ("de-at", "de"),
        ("ar-eg", "ar"),
        ("uk", "en"),
        ("xx", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_telegram_language_codes_find_their_catalog(code, expected):
    assert negotiate(code, LANGUAGES) == expected


def test_every_catalog_is_reached_from_its_telegram_code():
    assert {language: negotiate(code, LANGUAGES) for language, code in TELEGRAM_CODES.items()} == {
        language: language for language in TELEGRAM_CODES
    }


def test_the_only_catalog_of_a_language_serves_all_its_varieties():
    assert negotiate("pt-pt", ["en", "pt_BR"]) == "pt_BR"
    assert negotiate("zh-tw", ["en", "zh_Hans"]) == "zh_Hans"
    assert negotiate("zh-tw", ["en", "zh_Hans", "zh_Hant"]) == "zh_Hant"


async def test_language_code_picks_the_catalog(bot, api):
    await api.send_text(USER, "/start", language_code="zh-hans")
    [welcome] = await api.wait_for(USER, newer_than(0))
    assert _has_chinese(welcome["text"]) and "/language" in welcome["text"]
    await api.send_text(USER + 1, "/start", language_code="eo")
    [fallback] = await api.wait_for(USER + 1, newer_than(0))
    assert fallback["text"].startswith("Hi! I'm shopshot")


async def test_language_command_switches_and_the_choice_survives_a_restart(bot, api):
    await api.send_text(USER, "/language")
    menu = await api.wait_for(USER, with_button("lg:"))
    assert [button["text"].removeprefix("✓ ") for button in buttons(menu)] == [native_name(code) for code in LANGUAGES]
    await api.press(USER, menu["message_id"], data=LanguagePicked(code="zh_Hans").pack())
    await api.wait_for(USER, lambda ms: ms if _has_chinese(ms[-1]["text"]) else None)
    await bot.stop()
    bot.start()
    await api.send_text(USER, "/help")  # Telegram still says English; the stored choice wins
    replies = await api.wait_for(USER, newer_than(1))
    assert _has_chinese(replies[-1]["text"])


async def test_unknown_language_codes_in_callback_data_are_ignored(bot, api):
    await api.send_text(USER, "/language")
    menu = await api.wait_for(USER, with_button("lg:"))
    await api.press(USER, menu["message_id"], data=LanguagePicked(code="en").pack())
    await api.forge_callback(USER, menu["message_id"], LanguagePicked(code="xx").pack())
    await _answered(api, presses=2)
    await api.send_text(USER, "/help")
    replies = await api.wait_for(USER, newer_than(1))
    assert replies[-1]["text"].startswith("How it works")


async def _answered(api, presses: int) -> None:
    """Wait until the bot has answered that many button presses."""
    for _ in range(200):
        if len(await api.callback_answers(USER)) >= presses:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"fewer than {presses} presses answered")


async def _switch(api, code: str) -> int:
    """Choose a language from the /language menu; return how many messages the chat had just before."""
    await api.send_text(USER, "/language")
    menu = await api.wait_for(USER, with_button("lg:"))
    count = len(await api.messages(USER))
    await api.press(USER, menu["message_id"], data=LanguagePicked(code=code).pack())
    return count


async def test_switching_language_shows_the_current_step_again_in_the_new_language(bot, api, catalogs):
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0))
    await api.send_photo(USER, sample_photo())
    await api.wait_for(USER, with_button("bd:"))

    count = await _switch(api, "de")
    gallery = await api.wait_for(
        USER, lambda ms: ms[-1] if len(ms) > count and with_button("bd:")(ms[count:]) else None
    )
    assert gallery["caption"] == catalogs.gettext("Choose a backdrop by its number:", locale="de")
    assert catalogs.gettext("Cancel", locale="de") in [button["text"] for button in buttons(gallery)]

    await api.press(USER, gallery["message_id"], data=BackdropPicked(key="white").pack())
    await api.wait_for(USER, with_button("op:"))
    count = await _switch(api, "fr")
    options = await api.wait_for(
        USER, lambda ms: ms[-1] if len(ms) > count and with_button("op:")(ms[count:]) else None
    )
    assert options["text"].startswith(
        catalogs.gettext("Backdrop: {backdrop}. Now choose the format and how many variants:", locale="fr").split("{")[
            0
        ]
    )
    assert catalogs.gettext("Pure white", locale="fr") in options["text"]

    await api.press(USER, options["message_id"], data=Step(action="continue").pack())
    await api.wait_for(USER, with_button(Step(action="confirm").pack()))
    count = await _switch(api, "ja")
    summary = await api.wait_for(
        USER, lambda ms: ms[-1] if len(ms) > count and with_button(Step(action="confirm").pack())(ms[count:]) else None
    )
    assert summary["text"].startswith("作成内容：") and catalogs.gettext("✅ Confirm", locale="ja") in [
        b["text"] for b in buttons(summary)
    ]


async def test_switching_language_when_idle_only_confirms(bot, api):
    count = await _switch(api, "es")
    confirmed = await api.wait_for(USER, lambda ms: ms if ms[-1]["text"] == "Idioma: Español" else None)
    assert len(confirmed) == count  # the menu was edited into the confirmation; nothing else was sent
