"""Choosing the seller's language: their /language choice, else Telegram's `language_code`."""

from collections.abc import Collection
from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel import Locale, UnknownLocaleError
from redis.asyncio import Redis

LANGUAGE_KEY = "shopshot:language:"
# Renewed on every update of the seller's: only a seller away this long falls back to Telegram's language.
LANGUAGE_TTL_S = 180 * 24 * 3600


def keys_for(user_id: int) -> list[str]:
    """The seller's keys kept here (their /language choice), for /forget to delete."""
    return [LANGUAGE_KEY + str(user_id)]


def negotiate(language_code: str | None, available: Collection[str], default: str = "en") -> str:
    """Map a Telegram language code (`pt-br`, `zh-hant`, `zh-cn` …) to one of our catalogs."""
    if not language_code:
        return default
    try:
        locale = Locale.parse(language_code.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return default
    script = locale.script or _likely_script(locale)
    variants = [f"{locale.language}_{part}" for part in (script, locale.territory) if part]
    for candidate in (*variants, locale.language):
        if candidate in available:
            return candidate
    return _only_catalog_of(locale.language, available) or default


def _likely_script(locale: Locale) -> str | None:
    # Babel fills in the likely script from the region: zh_TW → Hant, zh_CN → Hans.
    likely = Locale.parse(f"{locale.language}_{locale.territory}") if locale.territory else None
    if likely is None or likely.script is None:
        return "Hans" if locale.language == "zh" else None
    return likely.script


def _only_catalog_of(language: str, available: Collection[str]) -> str | None:
    # A reader of another variety (`pt` or `pt-pt` when only pt_BR exists) reads that one better than English.
    matches = [code for code in available if code.split("_")[0] == language]
    return matches[0] if len(matches) == 1 else None


def native_name(code: str) -> str:
    """A language's name in that language, from Babel's locale data: `Deutsch`, `中文 (繁體)`, `Português`."""
    # Our catalogs differ by script, never by region (pt_BR is the only Portuguese), so the region is left
    # out: it would only lengthen the buttons. tests/bot/test_keyboards.py checks the names stay distinct.
    locale = Locale.parse(code)
    name = Locale(locale.language, script=locale.script).get_display_name(locale) or code
    return name[:1].upper() + name[1:]


class SellerI18nMiddleware(I18nMiddleware):
    """Sets the locale for each update from the seller's stored choice or Telegram's language code."""

    def __init__(self, i18n: I18n, redis: Redis) -> None:
        super().__init__(i18n)
        self.redis = redis

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user = data.get("event_from_user")
        if user is None:
            return self.i18n.default_locale
        chosen = await self.redis.getex(LANGUAGE_KEY + str(user.id), ex=LANGUAGE_TTL_S)
        if chosen and chosen.decode() in self.i18n.available_locales:
            return chosen.decode()
        return negotiate(user.language_code, self.i18n.available_locales, self.i18n.default_locale)

    async def set_locale(self, user_id: int, locale: str) -> None:
        """Remember a seller's choice; it outlives conversations and restarts."""
        await self.redis.set(LANGUAGE_KEY + str(user_id), locale, ex=LANGUAGE_TTL_S)
        self.i18n.current_locale = locale
