"""The chat page in the scripts the bot speaks: every letter drawn from a font, none as a box."""

import re
from pathlib import Path

import pytest

from tests.browser.conftest import PHONE

SELLER = 7401
SCRIPTS = {"ar": re.compile(r"[\u0600-\u06ff]"), "hi": re.compile(r"[\u0900-\u097f]"), "th": re.compile(r"[\u0e00-\u0e7f]")}
# Latin, Greek, Cyrillic and Arabic, but neither Devanagari nor Thai.
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


async def test_arabic_hindi_and_thai_welcomes_show_no_boxes(bot, open_chat, shots):
    boxes = {}
    for number, (language, script) in enumerate(SCRIPTS.items()):
        chat = await open_chat(SELLER + number, viewport=PHONE, language=language)
        await chat.page.click("#start")
        welcome = chat.bot_bubbles().first
        await welcome.wait_for()
        await shots.take(chat.page, language)
        assert script.search(await welcome.text_content()), f"the {language} welcome is in another script"
        boxes[language] = await chat.missing_glyphs(welcome)
    # The language picker names every language in its own script.
    boxes["picker"] = await chat.missing_glyphs(chat.page.locator("#language"))
    assert not any(boxes.values()), f"drawn as boxes, for want of a font (`make system` installs them): {boxes}"


@pytest.mark.parametrize("browser", [[DEJAVU]], indirect=True)
async def test_the_box_check_finds_every_letter_chromium_has_no_font_for(browser, open_chat, as_bot):
    if not DEJAVU.is_dir():
        pytest.skip(f"{DEJAVU} is missing")
    chat = await open_chat(SELLER)
    await chat.send("hello")  # the bot may write only to a user who has written to it
    await chat.page.locator(".row.out").wait_for()
    samples = {"ar": "مرحبًا بك", "hi": "नमस्ते दुनिया", "th": "สวัสดีชาวโลก"}
    for text in samples.values():
        await as_bot.send_message(SELLER, text)
    await chat.bot_bubbles().nth(len(samples) - 1).wait_for()
    found = [set(await chat.missing_glyphs(chat.bot_bubbles().nth(i))) for i in range(len(samples))]
    assert found == [set(), set(samples["hi"]) - {" "}, set(samples["th"])]

