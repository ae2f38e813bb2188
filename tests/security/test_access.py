"""A private deployment: the allow-list and the admins get in; anyone else gets one clear message and nothing else."""

import asyncio

from aiogram.utils.i18n import I18n

from shopshot.bot.access import is_admin, is_allowed
from shopshot.bot.app import locales_dir
from shopshot.bot.callbacks import BackdropPicked
from shopshot.config import AccessSettings, Settings
from shopshot.errors import NotAllowed
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import newer_than

SELLER, ADMIN, STRANGER = 901, 902, 1234567
PRIVATE = AccessSettings(allowed_ids=[SELLER], admin_ids=[ADMIN])


def refusal(locale: str) -> str:
    """The refusal in a language, with the id shown as is (not grouped "1 234 567")."""
    return (
        I18n(path=locales_dir(), domain="shopshot").gettext(NotAllowed.message, locale=locale).format(user_id=STRANGER)
    )


def test_admins_are_always_allowed_and_an_empty_list_lets_everyone_in():
    assert is_allowed(PRIVATE, SELLER) and is_allowed(PRIVATE, ADMIN) and not is_allowed(PRIVATE, STRANGER)
    assert is_allowed(AccessSettings(), STRANGER) and is_allowed(AccessSettings(admin_ids=[ADMIN]), STRANGER)
    settings = Settings(_env_file=None, access=PRIVATE)
    assert is_admin(settings, ADMIN) and not is_admin(settings, SELLER)


async def test_a_stranger_gets_one_clear_message_and_nothing_else(start_bot, api, redis):
    start_bot(access=PRIVATE)
    await api.send_text(STRANGER, "/start", language_code="ru")
    await api.send_photo(STRANGER, sample_photo(), language_code="ru")
    replies = await api.wait_for(STRANGER, newer_than(1))
    await api.forge_callback(STRANGER, replies[0]["message_id"], BackdropPicked(key="white").pack())
    for user in (SELLER, ADMIN):
        await api.send_text(user, "/start")
        [welcome] = await api.wait_for(user, newer_than(0))
        assert welcome["text"].startswith("Hi! I'm shopshot")
    await asyncio.sleep(0.5)
    assert [reply["text"] for reply in await api.messages(STRANGER)] == [refusal("ru")] * 2
    [answer] = await api.callback_answers(STRANGER)
    assert answer["text"] == refusal("en") and answer["show_alert"]
    assert not [key for key in redis.scan_iter(count=1000) if str(STRANGER) in key.decode()]
    assert not [call for call in await api.calls("getFile")]  # the stranger's photo was never downloaded
