"""Buying credits in the browser playground: /buy, a pack, the invoice's "Pay ⭐ N" button, the thanks."""

import pytest

from shopshot.config import BillingSettings

SELLER = 7101


@pytest.fixture
def settings(settings):
    settings.billing = BillingSettings(enabled=True)
    return settings


async def test_a_seller_pays_an_invoice_with_its_pay_button(bot, api, open_chat, shots):
    pack = BillingSettings().packs[0]
    chat = await open_chat(SELLER)
    page = chat.page
    await page.click("#start")
    await chat.bot_bubbles().first.wait_for()
    await chat.send("/buy")
    await chat.key(f"⭐ {pack.stars}").click()
    await page.locator(".invoice").wait_for()
    await shots.take(page, "invoice")
    pay = chat.key("Pay ⭐")
    assert (await pay.text_content()).strip() == f"Pay ⭐ {pack.stars}"
    await pay.click()
    await page.locator(".bubble", has_text="Thank you!").wait_for()
    await page.locator(".payment", has_text=f"Paid ⭐ {pack.stars}").wait_for()
    await shots.take(page, "paid")
    assert chat.errors == []
    assert [call["ok"] for call in await api.calls("answerPreCheckoutQuery")] == [True]
