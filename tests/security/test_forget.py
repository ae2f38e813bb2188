"""/forget: the seller's images, results, jobs, state and per-seller keys are gone from Redis; others' stay."""

from shopshot.bot.callbacks import LanguagePicked
from shopshot.bot.delivery import DELIVERED_KEY
from shopshot.bot.languages import LANGUAGE_KEY
from shopshot.bot.limits import IN_FLIGHT_KEY, STARTS_KEY
from shopshot.bot.studio import JOBS_OF_KEY
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, newer_than, play_conversation, with_button
from shopshot.queue.events import PUBLISHED_KEY
from shopshot.queue.store import OWNED_KEY
from tests.conftest import until

SELLER, OTHER = 801, 802


def _keys_naming(redis, user: int) -> set[str]:
    return {key.decode() for key in redis.scan_iter(count=1000) if str(user) in key.decode().split(":")}


async def test_forget_deletes_the_sellers_images_results_state_and_keys(bot, worker, api, redis, tmp_path):
    await play_conversation(api.base_url, SELLER, sample_photo(), tmp_path / "out", Choices(preset="white", ratio="1:1", variants=1))
    await api.send_photo(SELLER, sample_photo())  # a second photo, mid-conversation: FSM state and data
    await api.wait_for(SELLER, lambda messages: len([m for m in messages if m["kind"] == "photo" and m["caption"]]) == 2)
    await api.send_photo(OTHER, sample_photo())
    await api.wait_for(OTHER, with_button("bd:"))
    images = [key.decode() for key in redis.smembers(OWNED_KEY + str(SELLER))]
    jobs = [key.decode() for key in redis.smembers(JOBS_OF_KEY + str(SELLER))]
    others = [key.decode() for key in redis.smembers(OWNED_KEY + str(OTHER))]
    assert len(images) == 4 and len(jobs) == 1 and len(others) == 1  # two photos, the album's JPEG and PNG
    assert redis.exists(PUBLISHED_KEY + jobs[0]) and redis.exists(DELIVERED_KEY + jobs[0])
    await api.send_text(SELLER, "/language")
    menu = await api.wait_for(SELLER, with_button("lg:"))
    await api.press(SELLER, menu["message_id"], data=LanguagePicked(code="en").pack())
    await until(lambda: redis.exists(LANGUAGE_KEY + str(SELLER)))
    seller = str(SELLER)
    expected = {f"fsm:{seller}:{seller}:state", f"fsm:{seller}:{seller}:data", f"shopshot:once:{seller}", LANGUAGE_KEY + seller}
    assert expected <= _keys_naming(redis, SELLER)
    count = len(await api.messages(SELLER))
    await api.send_text(SELLER, "/forget")
    [reply] = (await api.wait_for(SELLER, newer_than(count)))[count:]
    assert reply["text"] == "Done: I deleted your photos, results, choices and language setting."
    per_job = [prefix + job_id for job_id in jobs for prefix in ("rq:job:", PUBLISHED_KEY, DELIVERED_KEY)]
    assert not any(redis.exists(key) for key in images + per_job)
    # What stays: the limits' ledger, which expires by itself and must outlive a /forget to mean anything.
    assert _keys_naming(redis, SELLER) <= {IN_FLIGHT_KEY + str(SELLER), STARTS_KEY + str(SELLER)}
    assert all(redis.exists(key) for key in others) and _keys_naming(redis, OTHER)
