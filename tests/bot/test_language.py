"""The seller's language: from Telegram's language_code, changed with /language, kept in Redis."""

from shopshot.bot.callbacks import LanguagePicked
from shopshot.playground.scripted import buttons, newer_than, with_button

USER = 640


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


async def test_language_code_picks_the_catalog(bot, api):
    await api.send_text(USER, "/start", language_code="zh-hans")
    [welcome] = await api.wait_for(USER, newer_than(0))
    assert _has_chinese(welcome["text"]) and "/language" in welcome["text"]
    await api.send_text(USER + 1, "/start", language_code="de")
    [fallback] = await api.wait_for(USER + 1, newer_than(0))
    assert fallback["text"].startswith("Hi! I'm shopshot")


async def test_language_command_switches_and_the_choice_survives_a_restart(bot, api):
    await api.send_text(USER, "/language")
    menu = await api.wait_for(USER, with_button("lg:"))
    assert {button["text"].lstrip("✓ ") for button in buttons(menu)} == {"English", "中文 (简体)"}
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
    await api.send_text(USER, "/help")
    replies = await api.wait_for(USER, newer_than(1))
    assert replies[-1]["text"].startswith("How it works")
