"""A worker SIGKILLed mid-job after the job's credits were held: the job is re-queued and finished
elsewhere, delivered once, and its hold captured once; the ledger sums to the balance."""

from redis import Redis

from shopshot.bot.callbacks import Step
from shopshot.bot.delivery import DELIVERED_KEY
from shopshot.bot.studio import JOBS_OF_KEY
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, newer_than, reach_summary, with_button
from tests.billing.invariant import assert_ledger_sums
from tests.conftest import until
from tests.queue.fleet import Fleet

USER = 611


async def test_a_worker_killed_mid_job_after_the_hold_charges_the_job_once(
    bot, api, ledger, redis_url, tmp_path, figures
):
    await ledger.grant(USER, 10, "test", once="grant")
    redis = Redis.from_url(redis_url)
    with Fleet(redis, redis_url, tmp_path, "tests.queue.backends:Slow", {"SLOW_BACKEND_S": "6"}) as fleet:
        fleet.start(2)
        await fleet.ready()
        await api.send_text(USER, "/start")
        await api.wait_for(USER, newer_than(0))
        await api.send_photo(USER, sample_photo())
        await api.wait_for(USER, with_button("bd:"))
        summary = await reach_summary(api, USER, Choices(preset="studio", variants=4))
        await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
        [job_id] = await until(lambda: redis.smembers(JOBS_OF_KEY + str(USER)), what="the queued job")
        process, _name = await fleet.holder(job_id.decode())
        fleet.kill(process)
        await assert_ledger_sums(ledger, USER, balance=8, held=2)  # two free images, then two credits, still held
        await api.wait_for(USER, with_button("rs:"), timeout=120)
    # The capture follows the last part of the delivery (the message with the result buttons).
    await until(lambda: redis.exists(DELIVERED_KEY + job_id.decode()), what="the delivery's end")
    redis.close()
    messages = await api.messages(USER)
    delivered = sum("Here are your 4 images." in (m["text"] or "") for m in messages)
    captures = [move for move in await ledger.moves(USER, 20) if move.kind == "capture"]
    assert (delivered, len(captures), captures[0].spent) == (1, 1, 2)
    await assert_ledger_sums(ledger, USER, balance=8, held=0)
    figures.set("billing: worker killed mid-job after the hold, deliveries/captures", f"{delivered}/{len(captures)}")
