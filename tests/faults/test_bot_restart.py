"""The bot process killed with SIGKILL mid-conversation and mid-delivery: the seller gets each album once."""

import time

from shopshot.bot.callbacks import Step
from shopshot.bot.delivery import PARTS_KEY
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, newer_than, reach_summary, with_button
from tests.faults.conftest import wait_until

USER = 701
RESUME_BOUND_S = 25  # below the 30 s idle time after which another consumer would claim the entry


def _parts_with_photos(redis) -> bool:
    return any(redis.sismember(key, "photos") for key in redis.scan_iter(f"{PARTS_KEY}*"))


async def test_a_bot_killed_twice_resumes_the_conversation_and_sends_each_part_once(bot_process, worker, api, redis, figures):
    bot_process.start()
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0), timeout=60)
    await api.send_photo(USER, sample_photo())
    summary = await reach_summary(api, USER, Choices(preset="white", ratio="1:1", variants=2))
    bot_process.kill()  # mid-conversation: the choices live only in Redis now
    bot_process.start()
    figures.add("restarts survived")
    # The album goes through; the files hang and then fail, so Telegram never accepts them before the kill.
    await api.inject_fault("sendMediaGroup", status=200, retry_after=None)
    await api.inject_fault("sendMediaGroup", status=502, retry_after=None, delay_s=8)
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    await wait_until(lambda: _parts_with_photos(redis), 90, "the album's checkpoint")
    bot_process.kill()  # mid-delivery: album sent, files in flight, summary not sent
    restarted = time.monotonic()
    bot_process.start()
    final = await api.wait_for(USER, with_button("rs:"), timeout=60)
    assert time.monotonic() - restarted < RESUME_BOUND_S
    figures.add("restarts survived")
    messages = await api.messages(USER)
    assert sum(m["kind"] == "photo" and bool(m["media_group_id"]) for m in messages) == 2
    assert sum(m["kind"] == "document" for m in messages) == 2
    assert sum("Here are your 2 images." in (m["text"] or "") for m in messages) == 1
    assert "Here are your 2 images." in final["text"]
    assert redis.xpending("shopshot:events", "bot")["pending"] == 0
