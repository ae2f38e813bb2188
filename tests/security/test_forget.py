"""/forget: the seller's images, results, jobs, state and per-seller keys are gone from Redis; others' stay."""

from rq.job import Job, JobStatus

from shopshot.bot.callbacks import ForgetChoice, LanguagePicked, ResultAction, Step
from shopshot.bot.delivery import DELIVERED_KEY, FORGOTTEN_KEY
from shopshot.bot.languages import LANGUAGE_KEY
from shopshot.bot.limits import STARTS_KEY
from shopshot.bot.looks import LOOKS_KEY
from shopshot.bot.studio import FORGET_ASKED_KEY, JOBS_OF_KEY
from shopshot.launcher import worker_process
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, buttons, play_conversation, with_button
from shopshot.queue.events import PUBLISHED_KEY, JobEvent
from shopshot.queue.store import OWNED_KEY, PREFIX, UPLOADS_KEY
from tests.conftest import until
from tests.security.conftest import FORGOTTEN, answer_to, ask_forget, at_summary, forget, forget_button, waiting_jobs

SELLER, OTHER = 801, 802
INACTIVE = "This button is no longer active."


def _keys_naming(redis, user: int) -> set[str]:
    return {key.decode() for key in redis.scan_iter(count=1000) if str(user) in key.decode().split(":")}


def _keys_without_lock(redis, user: int) -> set[str]:
    """The keys naming a seller but their update lock, which comes and goes with each handler."""
    return {key for key in _keys_naming(redis, user) if not key.endswith(":lock")}


def _stream_users(redis, settings) -> list[int]:
    """The seller of each event on the result stream."""
    return [JobEvent.from_fields(fields).spec.user_id for _, fields in redis.xrange(settings.queue.events_stream)]


async def test_forget_deletes_the_sellers_images_results_state_and_keys(bot, worker, api, redis, settings, tmp_path):
    await play_conversation(
        api.base_url, SELLER, sample_photo(), tmp_path / "out", Choices(preset="white", ratio="1:1", variants=1)
    )
    await _save_the_look(api, redis, SELLER)
    await api.send_photo(SELLER, sample_photo())  # a second photo, mid-conversation: FSM state and data
    await api.wait_for(SELLER, with_button("bd:"))  # the first gallery's buttons went when its backdrop was chosen
    await api.send_photo(OTHER, sample_photo())
    await api.wait_for(OTHER, with_button("bd:"))
    images = [key.decode() for key in redis.smembers(OWNED_KEY + str(SELLER))]
    jobs = [key.decode() for key in redis.smembers(JOBS_OF_KEY + str(SELLER))]
    others = [key.decode() for key in redis.smembers(OWNED_KEY + str(OTHER))]
    # Two photos with their two gallery pages each (the seller's product on them; the first stays, its job
    # uses it); the album's JPEG and PNG left storage once Telegram had them.
    assert len(images) == 6 and len(jobs) == 1 and len(others) == 3
    assert redis.exists(PUBLISHED_KEY + jobs[0]) and redis.exists(DELIVERED_KEY + jobs[0])
    assert _stream_users(redis, settings) == [SELLER]
    await api.send_text(SELLER, "/language")
    menu = await api.wait_for(SELLER, with_button("lg:"))
    await api.press(SELLER, menu["message_id"], data=LanguagePicked(code="en").pack())
    await until(lambda: redis.exists(LANGUAGE_KEY + str(SELLER)))
    seller = str(SELLER)
    expected = {
        f"fsm:{seller}:{seller}:state",
        f"fsm:{seller}:{seller}:data",
        f"shopshot:once:{seller}",
        LANGUAGE_KEY + seller,
        LOOKS_KEY + seller,
    }
    assert expected <= _keys_naming(redis, SELLER)
    await forget(api, SELLER)
    per_job = [prefix + job_id for job_id in jobs for prefix in ("rq:job:", PUBLISHED_KEY, DELIVERED_KEY)]
    assert not any(redis.exists(key) for key in images + per_job)
    assert _stream_users(redis, settings) == []  # the result's event, which named the seller, is gone too
    # What stays: the minute's job starts and uploads, which expire within the minute and must outlive a /forget to mean anything
    # (and, until the confirm button's handler returns, the seller's update lock).
    await until(
        lambda: _keys_naming(redis, SELLER) <= {STARTS_KEY + str(SELLER), UPLOADS_KEY + str(SELLER)},
        what="only the minute's starts and uploads left",
    )
    assert all(redis.exists(key) for key in others) and _keys_naming(redis, OTHER)


async def _save_the_look(api, redis, user: int) -> None:
    """Tap Save this look under the seller's latest result, and wait until it is kept."""
    final = (await api.messages(user))[-1]
    save = next(
        button["callback_data"]
        for button in buttons(final)
        if ResultAction.unpack(button["callback_data"]).action == "save"
    )
    await api.press(user, final["message_id"], data=save)
    await until(lambda: redis.exists(LOOKS_KEY + str(user)), what="the look saved")


async def test_forget_deletes_the_saved_looks_so_the_next_photo_offers_none(bot, worker, api, redis, tmp_path):
    await play_conversation(
        api.base_url, SELLER, sample_photo(), tmp_path / "out", Choices(preset="wall", ratio="1:1", variants=1)
    )
    await _save_the_look(api, redis, SELLER)
    await forget(api, SELLER)
    assert not redis.exists(LOOKS_KEY + str(SELLER))
    count = len(await api.messages(SELLER))
    await api.send_photo(SELLER, sample_photo())
    gallery = await api.wait_for(SELLER, lambda messages: with_button("bd:")(messages[count:]))
    assert buttons(gallery)[0]["callback_data"] == "bd:white"  # no saved look ahead of the backdrops


def _handled(redis, settings) -> bool:
    """True once the bot has read every result event and acknowledged it."""
    [group] = redis.xinfo_groups(settings.queue.events_stream)
    return group["last-delivered-id"] != b"0-0" and group["pending"] == 0


def _sent_files(messages: list[dict]) -> tuple[int, int]:
    """Photos and documents the bot sent to a chat."""
    return sum(m["from_bot"] and m["kind"] == "photo" for m in messages), sum(
        m["from_bot"] and m["kind"] == "document" for m in messages
    )


async def test_a_job_running_at_forget_is_finished_but_its_results_are_deleted_not_sent(
    bot, api, redis, redis_url, settings, tmp_path
):
    with worker_process(
        redis_url, tmp_path / "worker.log", {"BACKEND": "tests.queue.backends:Slow", "SLOW_BACKEND_S": "4"}
    ):
        summary = await at_summary(api, SELLER)
        await api.press(SELLER, summary["message_id"], data=Step(action="confirm").pack())
        [job_id] = await until(lambda: [key.decode() for key in redis.smembers(JOBS_OF_KEY + str(SELLER))])
        await until(
            lambda: Job.fetch(job_id, connection=redis).get_status() == JobStatus.STARTED, 60, what="the job to start"
        )
        before = await api.messages(SELLER)
        count = len(before)
        await forget(api, SELLER)
        await until(
            lambda: redis.exists(FORGOTTEN_KEY + job_id) and _handled(redis, settings),
            60,
            what="the result event to be handled",
        )
    messages = await api.messages(SELLER)
    assert _sent_files(messages) == _sent_files(before)  # no album, no file
    assert (
        len(messages) == count + 1
    )  # the /forget question, now its answer, and after it nothing new: the status was edited
    assert "❌ Not done." in [m["text"] for m in messages]  # the status message, closed
    assert Job.fetch(job_id, connection=redis).get_status() == JobStatus.FINISHED and redis.exists(
        PUBLISHED_KEY + job_id
    )
    assert _stream_users(redis, settings) == []  # its event named the seller: it went with the results
    assert list(redis.scan_iter(match=PREFIX + "*")) == [] and not redis.exists(OWNED_KEY + str(SELLER))


def _text_of(message_id: int, text: str):
    """A `wait_for` predicate: that message once its text starts with `text`."""
    return lambda messages: next(
        (m for m in messages if m["message_id"] == message_id and (m["text"] or "").startswith(text)), None
    )


async def test_a_job_still_queued_at_forget_has_its_status_closed(bot, api, redis):
    summary = await at_summary(api, SELLER)  # no worker runs: the job waits in the queue
    await api.press(SELLER, summary["message_id"], data=Step(action="confirm").pack())
    status = await api.wait_for(
        SELLER, lambda messages: messages[-1] if (messages[-1]["text"] or "").startswith("⏳ Queued") else None
    )
    await api.wait_for(SELLER, _text_of(status["message_id"], "⏳ In the queue: position 1"))
    await forget(api, SELLER)
    await api.wait_for(SELLER, _text_of(status["message_id"], "❌ Not done."))
    assert not waiting_jobs(redis)


async def test_forget_during_a_delivery_stops_it_at_the_next_part_without_a_false_failure(
    bot, worker, api, redis, settings
):
    summary = await at_summary(api, SELLER)
    # The album's upload takes a while: the seller's /forget arrives while it is under way.
    await api.inject_fault("sendPhoto", status=200, retry_after=None, delay_s=6)
    await api.press(SELLER, summary["message_id"], data=Step(action="confirm").pack())
    # The status: the bot's next message, whatever it says by now (a worker is up).
    status = await api.wait_for(
        SELLER, lambda messages: next((m for m in messages if m["message_id"] > summary["message_id"]), None)
    )
    await api.wait_for(
        SELLER, _text_of(status["message_id"], "📤 Sending your images…"), timeout=60
    )  # the delivery has begun
    count = len(await api.messages(SELLER))
    reply = await forget(api, SELLER)
    await until(lambda: _handled(redis, settings), 60, what="the result event to be handled")
    messages = await api.messages(SELLER)
    assert _sent_files(messages)[1] == 0  # the album was on its way; the file was not sent after /forget
    assert not with_button("rs:")(messages)  # no results buttons, no "Something went wrong" with a retry
    assert [m["text"] for m in messages[count:] if m["kind"] == "text"] == [reply["text"]]
    assert "❌ Not done." in [m["text"] for m in messages]


async def test_forget_asks_first_and_only_the_sellers_latest_confirm_deletes(bot, api, redis):
    for user in (SELLER, OTHER):
        await api.send_photo(user, sample_photo())
        await api.wait_for(user, with_button("bd:"))
    kept = {user: _keys_without_lock(redis, user) for user in (SELLER, OTHER)}
    first = await ask_forget(api, SELLER)
    assert first["text"].startswith("Delete your photos, results, choices, saved looks and language setting?")
    assert [ForgetChoice.unpack(button["callback_data"]).action for button in buttons(first)] == ["delete", "keep"]
    await api.press(SELLER, first["message_id"], data=forget_button(first, "keep"))
    await api.wait_for(SELLER, _text_of(first["message_id"], "Nothing was deleted."))
    second = await ask_forget(api, SELLER)
    token = ForgetChoice.unpack(forget_button(second)).token
    # An older question's Delete, the seller's latest one pressed by someone else, a made-up token: none deletes anything.
    for user, message_id, data in (
        (SELLER, first["message_id"], forget_button(first)),
        (OTHER, second["message_id"], forget_button(second)),
        (SELLER, second["message_id"], ForgetChoice(action="delete", token="0" * len(token)).pack()),
    ):
        assert await answer_to(api, user, api.forge_callback(user, message_id, data)) == INACTIVE
    now = {user: _keys_without_lock(redis, user) for user in (SELLER, OTHER)}
    assert now == kept | {SELLER: kept[SELLER] | {FORGET_ASKED_KEY + str(SELLER)}}
    await api.press(SELLER, second["message_id"], data=forget_button(second))
    await api.wait_for(SELLER, _text_of(second["message_id"], FORGOTTEN))
    assert not redis.exists(OWNED_KEY + str(SELLER)) and _keys_without_lock(redis, OTHER) == kept[OTHER]
    # The same confirm again, as a client that still showed it would send it: used, it does nothing.
    assert (
        await answer_to(api, SELLER, api.forge_callback(SELLER, second["message_id"], forget_button(second)))
        == INACTIVE
    )
