"""Result buttons are bound to their seller: forged ones get nothing and are logged, used ones work once.
Forged step buttons get the stale-button answer: no step they did not offer, no forged text shown back."""

import asyncio
import logging
import re

from shopshot.bot.callbacks import BackdropPicked, JobChoice, OptionPicked, ResultAction, Step
from shopshot.bot.delivery import FORGOTTEN_KEY
from shopshot.bot.looks import LOOKS_KEY
from shopshot.config import LimitSettings
from shopshot.logs import user_tag
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, buttons, newer_than, play_conversation, with_button
from tests.conftest import until
from tests.security.conftest import at_summary, waiting_jobs

OWNER, STRANGER, SELLER = 701, 702, 703
INACTIVE = "This button is no longer active."
DETAIL_PROMPT = "Write one short line to add to the scene"


async def _answer_texts(api, user: int, saying: str, count: int) -> list[str]:
    """The texts of the bot's callback answers once `count` of them say `saying`."""
    for _ in range(600):
        texts = [answer["text"] for answer in await api.callback_answers(user)]
        if texts.count(saying) >= count:
            return texts
        await asyncio.sleep(0.05)
    raise TimeoutError(f"fewer than {count} callback answers saying {saying!r}: {texts}")


async def test_a_callback_forged_to_name_another_sellers_job_gets_nothing_and_is_logged(
    bot, api, redis, settings, caplog, figures
):
    summary = await at_summary(api, OWNER)
    await api.press(OWNER, summary["message_id"], data=Step(action="confirm").pack())
    await until(lambda: len(waiting_jobs(redis)) == 1)
    [job_id] = waiting_jobs(redis)
    await api.send_text(STRANGER, "/start")
    [welcome] = await api.wait_for(STRANGER, newer_than(0))
    caplog.set_level(logging.WARNING, logger="shopshot.bot.studio")
    for action in ("backdrop", "variations", "retry", "save"):
        await api.forge_callback(STRANGER, welcome["message_id"], ResultAction(action=action, job_id=job_id).pack())
    assert await _answer_texts(api, STRANGER, INACTIVE, 4) == [INACTIVE] * 4
    await asyncio.sleep(0.5)  # anything the bot still sent would be here by now
    assert await api.messages(STRANGER) == [welcome]
    assert waiting_jobs(redis) == [job_id] and not redis.exists(
        LOOKS_KEY + str(STRANGER)
    )  # no look of another's job kept
    warnings = [record.getMessage() for record in caplog.records if "another user's job" in record.getMessage()]
    tag = user_tag(settings, STRANGER)
    # The raw id as a number of its own: "702" may well occur inside a hex job id or tag.
    raw = re.compile(rf"\b{STRANGER}\b")
    assert len(warnings) == 4 and all(tag in line and not raw.search(line) for line in warnings)
    figures.add("callbacks forged to name another seller's job, refused", 4)


async def test_cancel_and_discard_forged_to_name_another_sellers_job_do_nothing(bot, api, redis, figures):
    summary = await at_summary(api, OWNER)
    await api.press(OWNER, summary["message_id"], data=Step(action="confirm").pack())
    [job_id] = await until(lambda: waiting_jobs(redis))
    status = await api.wait_for(OWNER, with_button(JobChoice(action="cancel", job_id=job_id).pack()))
    await api.send_text(STRANGER, "/start")
    [welcome] = await api.wait_for(STRANGER, newer_than(0))
    for action in ("cancel", "discard", "keep"):
        await api.forge_callback(STRANGER, welcome["message_id"], JobChoice(action=action, job_id=job_id).pack())
    assert await _answer_texts(api, STRANGER, INACTIVE, 3) == [INACTIVE] * 3
    assert waiting_jobs(redis) == [job_id] and not redis.exists(FORGOTTEN_KEY + job_id)
    await api.press(
        OWNER, status["message_id"], data=JobChoice(action="cancel", job_id=job_id).pack()
    )  # the owner's own works
    await api.wait_for(
        OWNER,
        lambda messages: next(
            (m for m in messages if m["message_id"] == status["message_id"] and m["text"] == "🚫 Cancelled."), None
        ),
    )
    assert not waiting_jobs(redis) and await api.messages(STRANGER) == [welcome]
    figures.add("cancel, discard and keep buttons forged to name another seller's job, refused", 3)


async def test_a_result_button_queues_once_however_often_it_is_pressed_or_replayed(
    start_bot, worker, api, redis, tmp_path, figures
):
    start_bot(limits=LimitSettings(jobs_in_flight=5, jobs_per_minute=20))
    await play_conversation(
        api.base_url, OWNER, sample_photo(), tmp_path / "out", Choices(preset="studio", ratio="1:1", variants=1)
    )
    result = (await api.messages(OWNER))[-1]
    variations = next(
        button["callback_data"] for button in buttons(result) if ":variations:" in button["callback_data"]
    )
    # A double tap: both presses reach the bot before it removes the buttons.
    await api.press(OWNER, result["message_id"], data=variations)
    await api.press(OWNER, result["message_id"], data=variations)
    await api.wait_for(
        OWNER,
        lambda messages: (found := with_button("rs:")(messages)) and found["message_id"] > result["message_id"],
        timeout=60,
    )
    await api.forge_callback(OWNER, result["message_id"], variations)  # a replay, long after
    texts = await _answer_texts(api, OWNER, INACTIVE, 2)
    await asyncio.sleep(0.5)
    assert texts.count(INACTIVE) == 2 and texts.count("Queued!") == 2  # Confirm, then one of the three presses
    albums = [m for m in await api.messages(OWNER) if m["kind"] == "document"]
    assert len(albums) == 2 and not waiting_jobs(redis)
    figures.add("result buttons pressed twice or replayed, refused", 2)


async def _at_options(api, user: int) -> dict:
    """A seller who sent a photo and picked a backdrop, while no GPU worker is up; returns the options message."""
    await api.send_text(user, "/start")
    await api.wait_for(user, newer_than(0))
    await api.send_photo(user, sample_photo())
    gallery = await api.wait_for(user, with_button(f"{BackdropPicked.__prefix__}:"))
    await api.press(user, gallery["message_id"], data=BackdropPicked(key="white").pack())
    return await api.wait_for(user, with_button(f"{OptionPicked.__prefix__}:"))


async def test_a_forged_detail_button_opens_no_detail_step_without_the_diffusion_backend(bot, api):
    options = await _at_options(api, SELLER)
    detail = Step(action="detail").pack()
    assert detail not in [button["callback_data"] for button in buttons(options)]
    await api.forge_callback(SELLER, options["message_id"], detail)
    assert (await _answer_texts(api, SELLER, INACTIVE, 1))[-1] == INACTIVE
    await api.press(SELLER, options["message_id"], data=Step(action="continue").pack())  # still choosing options
    await api.wait_for(SELLER, with_button(Step(action="confirm").pack()))
    assert not any((message["text"] or "").startswith(DETAIL_PROMPT) for message in await api.messages(SELLER))


async def test_forged_choices_are_refused_without_showing_them_back(bot, api):
    forged = "Free credits at evil.example"
    await api.send_text(SELLER, "/start")
    await api.wait_for(SELLER, newer_than(0))
    await api.send_photo(SELLER, sample_photo())
    gallery = await api.wait_for(SELLER, with_button(f"{BackdropPicked.__prefix__}:"))
    await api.forge_callback(SELLER, gallery["message_id"], BackdropPicked(key=forged).pack())
    await _answer_texts(api, SELLER, INACTIVE, 1)
    await api.press(SELLER, gallery["message_id"], data=BackdropPicked(key="white").pack())  # the gallery still works
    options = await api.wait_for(SELLER, with_button(f"{OptionPicked.__prefix__}:"))
    await api.forge_callback(SELLER, options["message_id"], OptionPicked(name="ratio", value=forged).pack())
    answers = await _answer_texts(api, SELLER, INACTIVE, 2)
    await asyncio.sleep(0.5)  # anything the bot still sent would be here by now
    shown = [message["text"] or message["caption"] or "" for message in await api.messages(SELLER)]
    assert [answer for answer in answers if answer] == [INACTIVE] * 2
    assert not any("evil.example" in text for text in shown)
