"""The bot process killed with SIGKILL mid-conversation and mid-delivery: the seller gets each album once."""

import time

from shopshot.bot.callbacks import Step
from shopshot.bot.delivery import PARTS_KEY
from shopshot.playground.scripted import with_button
from tests.conftest import until
from tests.faults.conftest import album_counts, reach_confirm

USER = 701
RESUME_BOUND_S = 25  # below the 30 s idle time after which another consumer would claim the entry


def _parts_with_photos(redis) -> bool:
    return any(redis.sismember(key, "photos:1") for key in redis.scan_iter(f"{PARTS_KEY}*"))


async def test_a_bot_killed_twice_resumes_the_conversation_and_sends_each_part_once(
    bot_process, worker, api, redis, figures
):
    await bot_process.started(api)
    summary = await reach_confirm(api, USER)
    bot_process.kill()  # mid-conversation: the choices live only in Redis now
    await bot_process.started(api)
    figures.add("restarts survived")
    # The album goes through; the files hang and then fail, so Telegram never accepts them before the kill.
    await api.inject_fault("sendMediaGroup", status=200, retry_after=None)
    await api.inject_fault("sendMediaGroup", status=502, retry_after=None, delay_s=8)
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    await until(lambda: _parts_with_photos(redis), 90, what="the album's checkpoint")
    bot_process.kill()  # mid-delivery: album sent, files in flight, summary not sent
    restarted = await bot_process.started(api)  # the bound counts from the bot being up, not from its process start
    final = await api.wait_for(USER, with_button("rs:"), timeout=60)
    assert time.monotonic() - restarted < RESUME_BOUND_S
    figures.add("restarts survived")
    assert album_counts(await api.messages(USER)) == (2, 2, 1)  # one album, its files, one summary
    assert "Here are your 2 images." in final["text"]
    await until(lambda: redis.xpending("shopshot:events", "bot")["pending"] == 0, 15, what="the acknowledgement")
