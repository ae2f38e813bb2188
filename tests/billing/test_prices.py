"""Prices and packs: plain rules over the billing settings."""

import pytest

from shopshot.billing.prices import credit_pack, mode_of, price_per_image, split_cost
from shopshot.config import BillingSettings, CreditPack
from shopshot.errors import InvalidOption
from shopshot.launcher import playground_settings


def test_an_image_costs_by_its_mode_and_a_person_costs_more():
    billing = BillingSettings()
    assert price_per_image(billing, "backdrop", "studio") == billing.prices.studio
    assert price_per_image(billing, "backdrop", "quality") == billing.prices.quality
    assert price_per_image(billing, "model", "fast") == billing.prices.fast + billing.prices.person_extra


def test_the_mode_is_the_studio_on_cpu_else_the_presets_or_the_default():
    assert mode_of("studio", "white", "fast") == "studio"
    assert mode_of("diffusion", "white", "quality") == "fast"  # pure white is a fast preset
    assert mode_of("diffusion", "no-such-backdrop", "quality") == "quality"


def test_free_images_come_first_and_never_below_none():
    assert split_cost(4, 2, free_left=3) == (3, 2)
    assert split_cost(2, 2, free_left=-1) == (0, 4)


def test_packs_are_found_by_key_and_must_be_unique():
    billing = BillingSettings()
    assert credit_pack(billing, billing.packs[0].key) == billing.packs[0]
    with pytest.raises(InvalidOption):
        credit_pack(billing, "forged")
    with pytest.raises(ValueError):
        BillingSettings(packs=[CreditPack(key="a", credits=1, stars=1), CreditPack(key="a", credits=2, stars=2)])


def test_billing_settings_come_from_the_environment(monkeypatch, settings):
    monkeypatch.setenv("BILLING__ENABLED", "true")
    monkeypatch.setenv("BILLING__PRICES__FAST", "5")
    monkeypatch.setenv("BILLING__PACKS", '[{"key": "x", "credits": 3, "stars": 9}]')
    billing = type(settings)(_env_file=None).billing
    assert billing.enabled and billing.prices.fast == 5 and billing.packs == [CreditPack(key="x", credits=3, stars=9)]


def test_the_playground_sells_credits_unless_told_not_to(monkeypatch, settings):
    default = type(settings)(_env_file=None)
    assert not default.billing.enabled and playground_settings(default).billing.enabled
    monkeypatch.setenv("BILLING__ENABLED", "false")
    assert not playground_settings(type(settings)(_env_file=None)).billing.enabled
