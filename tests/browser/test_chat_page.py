"""The chat page in Chromium against the real bot, a real worker and a real Redis: what `make run` shows."""

import re

import aiohttp

from shopshot.bot.app import locales_dir
from shopshot.bot.callbacks import ResultAction
from shopshot.bot.languages import negotiate
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import with_button
from tests.browser.conftest import PHONE

SELLER = 7001
CJK = re.compile(r"[\u4e00-\u9fff]")

# Records, per row element, every text its bubble has shown: a message edited in place keeps its row.
WATCH_ROWS = """() => {
  window.shownByRow = new Map();
  const look = () => document.querySelectorAll('#messages > .row').forEach((row) => {
    const texts = window.shownByRow.get(row) || [];
    const text = row.querySelector('.bubble').textContent;
    if (texts[texts.length - 1] !== text) texts.push(text);
    window.shownByRow.set(row, texts);
  });
  new MutationObserver(look).observe(document.getElementById('messages'), {subtree: true, childList: true, characterData: true});
}"""
TEXTS_OF_MESSAGE = """(id) => [...window.shownByRow.entries()]
  .filter(([row, texts]) => row.querySelector(`.bubble[data-message-id="${id}"]`))
  .map(([row, texts]) => ({texts, attached: row.isConnected}))"""


async def _fetch(url: str) -> bytes:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        return await response.read()


async def test_a_seller_goes_from_photo_to_album_in_the_browser(bot, worker, api, stand_in, open_chat, shots, tmp_path):
    chat = await open_chat(SELLER)
    page = chat.page
    await page.wait_for_selector("#start")
    await shots.take(page, "new-chat")
    await page.click("#start")
    await chat.bot_bubbles().first.wait_for()
    await page.wait_for_selector("#menu:not([hidden])")  # the bot's setMyCommands reached the page
    assert "/language" in await chat.bot_bubbles().first.text_content()
    await shots.take(page, "welcome")

    photo = tmp_path / "mug.jpg"
    photo.write_bytes(sample_photo())
    await chat.attach([photo], as_photos=True)
    await page.locator(".row.out img.photo").wait_for()
    await chat.key("·").wait_for()  # numbered backdrop buttons under the gallery
    await shots.take(page, "gallery")
    await chat.key("·").click()
    await chat.key("Continue").click()
    await chat.key("Confirm").wait_for()
    await shots.take(page, "summary")

    await page.evaluate(WATCH_ROWS)
    summary_id = int(await chat.key("Confirm").evaluate("(key) => key.closest('.keyboard').dataset.messageId"))
    await chat.key("Confirm").click()
    toast = page.locator("#toast")
    await toast.wait_for()
    answers = [answer["text"] for answer in await api.callback_answers(SELLER) if answer["text"]]
    assert await toast.text_content() == answers[-1]
    await shots.take(page, "queued")

    final = await api.wait_for(SELLER, with_button(f"{ResultAction.__prefix__}:"), timeout=60)
    await page.locator(f'.keyboard[data-message-id="{final["message_id"]}"]').wait_for()
    await page.wait_for_function(
        "[...document.querySelectorAll('.grid img')].every((img) => img.complete && img.naturalWidth > 0)"
    )
    await toast.wait_for(state="hidden")  # toasts go away by themselves
    messages = await api.messages(SELLER)
    # The status message (the next message after the summary) changed in place, one row with several
    # texts, and went once the results came: the message with the buttons is the one "done".
    status_id = summary_id + 1
    [row] = await page.evaluate(TEXTS_OF_MESSAGE, status_id)
    assert len(row["texts"]) >= 2 and row["texts"][0].startswith("⏳ Queued") and not row["attached"]
    assert status_id not in [m["message_id"] for m in messages]
    await shots.take(page, "album", "playground-desktop.png")

    album = [m for m in messages if m["kind"] == "photo" and m["media_group_id"]]
    images = page.locator(".grid img.photo")
    shown = [await images.nth(i).get_attribute("data-file-id") for i in range(await images.count())]
    assert shown == [m["file_id"] for m in album] and len(shown) == 2
    for index, message in enumerate(album):
        src = await images.nth(index).evaluate("(img) => img.src")
        assert await _fetch(src) == await api.download(message["file_id"])

    documents = [m for m in messages if m["kind"] == "document"]
    links = page.locator(".row.in a.file")
    assert await links.count() == len(documents) == 2
    for index, message in enumerate(documents):
        link = links.nth(index)
        assert await link.get_attribute("download") == message["file_name"]
        assert re.search(r"\d KB|\d\.\d MB", await link.text_content())
        data = await _fetch(await link.evaluate("(a) => a.href"))
        assert data == await api.download(message["file_id"]) and data.startswith(b"\x89PNG")

    await page.set_viewport_size(PHONE)
    await page.wait_for_timeout(200)  # the resize scrolls the newest message back into view
    await shots.take(page, "album-phone", "playground-phone.png")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


async def test_the_language_picker_sets_language_code_as_telegram_would(bot, api, open_chat, shots):
    chat = await open_chat(SELLER)
    await chat.page.select_option("#language", "zh-hans")
    await chat.page.click("#menu")
    start = chat.page.locator("#commands button", has_text="/start")
    await start.filter(has_text=CJK).wait_for()  # the menu the bot set for Chinese
    await start.click()
    welcome = chat.bot_bubbles().first
    await welcome.wait_for()
    assert CJK.search(await welcome.text_content())
    assert (await api.messages(SELLER))[0]["text"] in await welcome.text_content()
    assert "lang=zh-hans" in chat.page.url
    await shots.take(chat.page, "zh-hans", "playground-zh-hans.png")

    # The picker also offers languages the bot lacks: those sellers get English.
    shipped = {path.parts[-3] for path in locales_dir().glob("*/LC_MESSAGES/shopshot.mo")}
    offered = await chat.page.eval_on_selector_all("#language option", "(options) => options.map((o) => o.value)")
    lacking = [code for code in offered if negotiate(code, shipped) == "en" and code != "en"]
    assert lacking
    await chat.page.select_option("#language", lacking[0])
    await chat.send("/help")
    await chat.bot_bubbles().nth(1).wait_for()
    assert "How it works" in await chat.bot_bubbles().nth(1).text_content()


async def test_two_tabs_are_two_users_who_never_see_each_other(bot, open_chat, shots):
    first = await open_chat(SELLER)
    second = await open_chat(SELLER + 1, viewport=PHONE)
    await first.send("/start")
    await first.bot_bubbles().first.wait_for()
    await second.send("/help")
    await second.bot_bubbles().first.wait_for()
    await first.page.wait_for_timeout(300)  # time for a stray update to arrive, were there one
    assert await first.page.locator(".row").count() == 2 and await second.page.locator(".row").count() == 2
    assert "/start" in await first.page.locator(".row.out").text_content()
    assert "/help" in await second.page.locator(".row.out").text_content()
    assert await first.page.input_value("#user-id") == str(SELLER)
    await shots.take(first.page, "first-user")
    await shots.take(second.page, "second-user")


async def test_a_tab_without_a_user_gets_a_new_random_one(open_chat, stand_in):
    chat = await open_chat(SELLER)
    await chat.page.goto(f"{stand_in}/")
    await chat.page.wait_for_selector("body[data-ready]")
    user = await chat.page.input_value("#user-id")
    assert int(user) > 0 and user != str(SELLER) and f"user={user}" in chat.page.url
