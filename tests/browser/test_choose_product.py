"""The choice of product in the chat page, in Chromium: the numbered picture, an alert for Continue with
nothing ticked, a tick that lands on the button, and the gallery after Continue."""

from shopshot.playground.scripted import with_button
from tests.bot.test_choose_product import two_products
from tests.browser.conftest import PHONE

SELLER = 7041


async def test_a_seller_picks_one_of_two_products_in_the_browser(bot, api, open_chat, shots, tmp_path):
    chat = await open_chat(SELLER, viewport=PHONE)
    page = chat.page
    await page.click("#start")
    await chat.bot_bubbles().first.wait_for()
    photo = tmp_path / "pair.png"
    photo.write_bytes(two_products())
    await chat.attach([photo], as_photos=False)
    await chat.key("All together").wait_for()
    await shots.take(page, "products")
    await chat.key("Continue").click()
    await page.wait_for_selector("#toast.alert:not([hidden])")
    assert "at least one product" in await page.text_content("#toast")
    await page.click("#toast")
    await chat.key("2").click()
    await chat.key("✓ 2").wait_for()
    await chat.key("Continue").click()
    await chat.key("·").wait_for()  # the numbered backdrop buttons under the gallery
    await shots.take(page, "gallery")
    kept = [m for m in await api.messages(SELLER) if (m["caption"] or "").startswith("This is what I'll keep")]
    assert len(kept) == 1 and with_button("bd:")(await api.messages(SELLER))
