"""Every key Redis keeps for one seller or one job expires, whatever the sellers did: no key grows forever."""

import asyncio

from shopshot.bot.callbacks import LanguagePicked
from shopshot.bot.languages import LANGUAGE_KEY
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, buttons, play_conversation, with_button
from shopshot.queue.enqueue import ACTIVE_KEY, DURATIONS_KEY, STATED_KEY
from shopshot.queue.store import EXPIRY_KEY
from tests.conftest import until
from tests.security.conftest import forget

SELLER, FORGETFUL = 911, 912
ONE_IMAGE = Choices(preset="studio", ratio="1:1", variants=1)  # pure white has no Variations to double-tap


def _global_keys(settings) -> dict[str, str]:
    """The keys shared by every seller, which live as long as the deployment, and why each may."""
    return {
        ACTIVE_KEY: "one field per job queued or running; delivery removes it",
        DURATIONS_KEY: "the last 50 job durations, for ETAs (LTRIM)",
        STATED_KEY: "one field per queue: its backend's stated job time, for ETAs before any job ran",
        settings.queue.events_stream: "the result stream, trimmed below the oldest entry the bot's group has not read or acknowledged",
        EXPIRY_KEY: "one member per stored blob, scored by its expiry; the sweep deletes the blob and the member",
    }


def _without_ttl(redis, settings) -> list[str]:
    keys = [key.decode() for pattern in ("shopshot:*", "fsm:*") for key in redis.scan_iter(match=pattern, count=1000)]
    return sorted(key for key in keys if redis.ttl(key) == -1 and key not in _global_keys(settings))


async def test_no_key_of_a_seller_or_a_job_lives_forever(bot, worker, api, redis, settings, tmp_path):
    await play_conversation(api.base_url, SELLER, sample_photo(), tmp_path / "seller", ONE_IMAGE)
    await play_conversation(api.base_url, FORGETFUL, sample_photo(), tmp_path / "forgetful", ONE_IMAGE)
    result = (await api.messages(SELLER))[-1]
    variations = next(
        button["callback_data"] for button in buttons(result) if ":variations:" in button["callback_data"]
    )
    # A double tap on a one-shot button: both presses reach the bot before it removes the buttons.
    await asyncio.gather(*(api.press(SELLER, result["message_id"], data=variations) for _ in range(2)))
    await api.wait_for(
        SELLER,
        lambda messages: (found := with_button("rs:")(messages)) and found["message_id"] > result["message_id"],
        timeout=60,
    )
    await api.send_text(SELLER, "/language")
    menu = await api.wait_for(SELLER, with_button("lg:"))
    await api.press(SELLER, menu["message_id"], data=LanguagePicked(code="de").pack())
    await until(lambda: redis.exists(LANGUAGE_KEY + str(SELLER)), what="the language stored")
    await forget(api, FORGETFUL)
    await until(lambda: not redis.hlen(ACTIVE_KEY), what="every job delivered")
    assert {"shopshot:language:911", "shopshot:once:911", "shopshot:in-flight:911"} <= {
        key.decode() for key in redis.scan_iter()
    }
    assert _without_ttl(redis, settings) == []
