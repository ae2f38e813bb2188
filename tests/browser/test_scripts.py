"""The chat page in the scripts the bot speaks: Arabic right to left, Hindi and Thai in real letters, none as a box."""

import re
from pathlib import Path

import pytest

from tests.browser.conftest import PHONE

SELLER = 7401
SCRIPTS = {
    "ar": re.compile(r"[\u0600-\u06ff]"),
    "hi": re.compile(r"[\u0900-\u097f]"),
    "th": re.compile(r"[\u0e00-\u0e7f]"),
}
# Latin, Greek, Cyrillic and Arabic, but neither Devanagari nor Thai.
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
# Whether a command's slash is drawn left of its name, as it is typed, wherever the command stands.
SLASH_LEFT_OF_NAME = """(node) => {
  const range = document.createRange();
  const left = (i) => {
    range.setStart(node.firstChild, i);
    range.setEnd(node.firstChild, i + 1);
    return range.getBoundingClientRect().left;
  };
  return left(0) < left(1);
}"""
# Which edge of the bubble each line's text sits against.
LINE_EDGES = """(node) => {
  const text = node.firstChild, box = node.getBoundingClientRect(), range = document.createRange();
  return text.textContent.split("\\n").map((line, index, lines) => {
    const start = lines.slice(0, index).join("\\n").length + (index ? 1 : 0);
    range.setStart(text, start);
    range.setEnd(text, start + line.length);
    const rect = range.getBoundingClientRect();
    return rect.left - box.left < box.right - rect.right ? "left" : "right";
  });
}"""


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


async def test_an_arabic_welcome_reads_right_to_left_and_its_first_command_is_tappable(bot, open_chat, api, shots):
    chat = await open_chat(SELLER, viewport=PHONE, language="ar")
    await chat.page.click("#start")
    welcome = chat.bot_bubbles().first
    await welcome.wait_for()
    text = await welcome.text_content()
    assert "\u200f/help" in text  # the catalog marks the line right-to-left before its first command
    assert await welcome.get_attribute("dir") == "auto"
    assert await welcome.evaluate("(node) => getComputedStyle(node).direction") == "rtl"
    assert await welcome.locator(".command").all_text_contents() == ["/help", "/language", "/cancel"]
    assert await welcome.locator(".command").first.evaluate(SLASH_LEFT_OF_NAME)
    await welcome.locator(".command", has_text="/help").click()
    await chat.bot_bubbles().nth(1).wait_for()
    sent = [m["text"] for m in await api.history(SELLER) if not m["from_bot"]]
    assert sent == ["/start", "/help"]
    await shots.take(chat.page, "ar-help")


async def test_each_line_of_a_message_takes_its_own_direction(open_chat, as_bot):
    chat = await open_chat(SELLER, viewport=PHONE, language="ar")
    await chat.send("/start")
    await chat.page.locator(".row.out").wait_for()
    await as_bot.send_message(SELLER, "مرحبًا! أنا shopshot، استوديو تصوير منتجاتك.\nHi")
    bubble = chat.bot_bubbles().first
    await bubble.wait_for()
    # The English line starts at the bubble's left edge, the Arabic one at its right.
    assert await bubble.evaluate(LINE_EDGES) == ["right", "left"]
