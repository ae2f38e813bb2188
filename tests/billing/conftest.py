"""Fixtures of the billing tests: billing on, with a small free allowance, and the ledger on the test's Redis."""

import pytest
from redis.asyncio import Redis

from shopshot.billing.ledger import Ledger
from shopshot.config import BillingSettings, PriceSettings
from tests.bot.test_translation_audit import pseudo, pseudo_locales  # noqa: F401 (the pseudo-locale, for test_texts.py)

FREE_IMAGES = 2
ADMIN = 900


@pytest.fixture
def settings(settings, fresh_catalogs):
    """The usual clean settings with billing on: two free images a month, a studio image for one credit."""
    settings.billing = BillingSettings(enabled=True, free_images=FREE_IMAGES, prices=PriceSettings(studio=1))
    settings.access.admin_ids = [ADMIN]
    return settings


@pytest.fixture
def fresh_catalogs(monkeypatch, compiled_locales):
    monkeypatch.setattr("shopshot.bot.app.locales_dir", lambda: compiled_locales)
    return compiled_locales


@pytest.fixture
async def ledger(redis_url, settings):
    client = Redis.from_url(redis_url)
    yield Ledger(client, free_images=settings.billing.free_images)
    await client.aclose()
