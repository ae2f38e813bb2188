"""Buttons under messages Telegram no longer shows the bot (an InaccessibleMessage, date 0): every step
goes on in a new message, Confirm and the result buttons still queue their job, and nothing fails."""

from shopshot.bot.callbacks import (
    BackdropPicked,
    ChangePicked,
    GalleryPage,
    LanguagePicked,
    OptionPicked,
    ResultAction,
    Step,
)
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, buttons, newer_than, reach_summary, with_button
from tests.conftest import until

USER, OTHER = 521, 522
FAILED = "Something went wrong while making your images. Please try again."
GONE = 999_999  # a message id the bot cannot see: deleted, or too old for Telegram to show


def _new_with_button(prefix: str, after: dict):
    """A `wait_for` predicate: a bot message sent after `after`, with a button whose data starts with `prefix`."""
    return lambda messages: with_button(prefix)([m for m in messages if m["message_id"] > after["message_id"]])


def _new_saying(text: str, after: dict):
    return lambda messages: any(m["message_id"] > after["message_id"] and text in (m["text"] or "") for m in messages)


async def _press_out_of_sight(api, user: int, message: dict, data: str) -> None:
    await api.press(user, message["message_id"], data=data, inaccessible=True)


async def test_a_conversation_pressed_out_of_sight_queues_its_jobs(bot, api, redis):
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0))
    await api.send_photo(USER, sample_photo())
    gallery = await api.wait_for(USER, with_button(f"{BackdropPicked.__prefix__}:"))
    await _press_out_of_sight(api, USER, gallery, GalleryPage(page=1).pack())
    page = await api.wait_for(USER, _new_with_button(f"{BackdropPicked.__prefix__}:", gallery))
    pick = next(
        b["callback_data"] for b in buttons(page) if b["callback_data"].startswith(f"{BackdropPicked.__prefix__}:")
    )
    await _press_out_of_sight(api, USER, page, pick)
    options = await api.wait_for(USER, _new_with_button(f"{OptionPicked.__prefix__}:", page))
    one = OptionPicked(name="variants", value="1").pack()
    await _press_out_of_sight(api, USER, options, one)
    ticked = await api.wait_for(USER, _new_with_button(f"{OptionPicked.__prefix__}:", options))
    assert any(b["callback_data"] == one and b["text"].startswith("✓") for b in buttons(ticked))
    await _press_out_of_sight(api, USER, ticked, Step(action="continue").pack())
    summary = await api.wait_for(USER, _new_with_button(Step(action="confirm").pack(), ticked))
    assert "1 image" in summary["text"]
    await _press_out_of_sight(api, USER, summary, Step(action="confirm").pack())
    await api.wait_for(USER, _new_saying("⏳ Queued…", summary))
    [job_id] = await until(
        lambda: [job.decode() for job in redis.lrange("rq:queue:studio", 0, -1)], what="the queued job"
    )
    # The result's buttons, on a message gone from the bot's sight.
    await api.forge_callback(USER, GONE, ResultAction(action="variations", job_id=job_id).pack())
    await until(lambda: redis.llen("rq:queue:studio") == 2, what="the variations job")
    count = len(await api.messages(USER))
    await api.forge_callback(USER, GONE, ResultAction(action="backdrop", job_id=job_id).pack())
    await api.wait_for(USER, lambda messages: with_button(f"{BackdropPicked.__prefix__}:")(messages[count:]))
    answers = [answer["text"] for answer in await api.callback_answers(USER)]
    assert answers.count("Queued!") == 2
    assert not any(m["text"] == FAILED for m in await api.messages(USER))


async def test_change_cancel_and_language_pressed_out_of_sight_answer_in_new_messages(bot, api):
    await api.send_text(OTHER, "/start")
    await api.wait_for(OTHER, newer_than(0))
    await api.send_photo(OTHER, sample_photo())
    summary = await reach_summary(api, OTHER, Choices(preset="white", ratio="1:1", variants=1))
    await _press_out_of_sight(api, OTHER, summary, Step(action="change").pack())
    choice = await api.wait_for(OTHER, _new_with_button(f"{ChangePicked.__prefix__}:", summary))
    await _press_out_of_sight(api, OTHER, choice, ChangePicked(part="backdrop").pack())
    gallery = await api.wait_for(OTHER, _new_with_button(f"{BackdropPicked.__prefix__}:", choice))
    await _press_out_of_sight(api, OTHER, gallery, Step(action="cancel").pack())
    await api.wait_for(OTHER, _new_saying("Cancelled. Send a new photo whenever you're ready.", gallery))
    await api.send_text(OTHER, "/language")
    menu = await api.wait_for(OTHER, with_button(f"{LanguagePicked.__prefix__}:"))
    await _press_out_of_sight(api, OTHER, menu, LanguagePicked(code="de").pack())
    await api.wait_for(OTHER, _new_saying("Deutsch", menu))
    assert not any(m["text"] == FAILED for m in await api.messages(OTHER))
