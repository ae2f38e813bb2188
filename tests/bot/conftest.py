"""Fixtures of the bot tests: the committed catalogs, compiled fresh so a stale build cannot hide a change."""

from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n

from tests.languages import DOMAIN


@pytest.fixture(scope="session")
def catalogs(compiled_locales) -> I18n:
    """aiogram's I18n over every language, English by default, as the bot builds it."""
    return I18n(path=compiled_locales, default_locale="en", domain=DOMAIN)


@pytest.fixture
def fresh_catalogs(monkeypatch, compiled_locales) -> Path:
    """Make the bot load the freshly compiled catalogs instead of whatever `make catalogs` last built."""
    monkeypatch.setattr("shopshot.bot.app.locales_dir", lambda: compiled_locales)
    return compiled_locales
