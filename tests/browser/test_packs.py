"""A marketplace pack and a saved look in Chromium, against the real bot, a real worker and a real Redis."""

from shopshot.bot.callbacks import ResultAction
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import with_button

SELLER = 7101


async def test_a_seller_taps_a_pack_gets_its_verdict_and_saves_the_look_in_the_browser(
    bot, worker, api, open_chat, shots, tmp_path
):
    chat = await open_chat(SELLER)
    page = chat.page
    photo = tmp_path / "mug.jpg"
    photo.write_bytes(sample_photo())
    await chat.attach([photo], as_photos=True)
    await chat.key("6 · ").click()  # the gallery's last backdrop on its first page: Powder blue
    await chat.key("🛒 Marketplace pack").click()
    await chat.key("Lazada").wait_for()
    assert await chat.key("Shopee *").is_visible()  # no rule found: marked, never ticked
    await shots.take(page, "packs")
    await chat.key("Lazada").click()
    await chat.key("Confirm").wait_for()
    assert "Marketplace pack: Lazada pack" in await chat.bot_bubbles().last.text_content()
    await chat.key("Confirm").click()
    final = await api.wait_for(SELLER, with_button(f"{ResultAction.__prefix__}:"), timeout=120)
    await page.locator(f'.keyboard[data-message-id="{final["message_id"]}"]').wait_for()
    done = page.locator(f'.bubble[data-message-id="{final["message_id"]}"]')
    assert "Checked against the marketplace's published rules:" in await done.text_content()
    assert "Lazada image: 850×850" in await done.text_content() and "✓" in await done.text_content()
    await chat.key("⭐ Save this look").click()
    await page.locator("#toast", has_text="this look is the first button").wait_for()
    await chat.attach([photo], as_photos=True)
    await chat.key("⭐ Lazada · Powder blue").wait_for()  # the saved look, first under the next photo's gallery
    await shots.take(page, "saved-look")
