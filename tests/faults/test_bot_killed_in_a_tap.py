"""The bot process SIGKILLed inside a Confirm, before and after its job is queued: once back, it answers
the seller at once, the tap is kept (one job, delivered once) and no job slot stays taken."""

import time

from shopshot.bot.callbacks import Step
from shopshot.bot.limits import IN_FLIGHT_KEY, TICKET
from shopshot.bot.studio import JOBS_OF_KEY
from shopshot.playground.scripted import with_button
from tests.conftest import until
from tests.faults.conftest import album_counts, reach_confirm

USER = 702
CONFIRM = Step(action="confirm").pack()
# Telegram's 429 holds the handler inside that call (the bot waits retry_after) until it is killed.
HOLD_S = 50
# aiogram's own isolation lock kept a killed bot's seller waiting 60 s; the renewed one lapses in seconds.
ANSWER_BOUND_S = 30


def _tickets(redis) -> list[bytes]:
    return [member for member in redis.zrange(IN_FLIGHT_KEY + str(USER), 0, -1) if member.startswith(TICKET.encode())]


async def _press_and_kill_inside(api, bot_process, summary: dict, method: str) -> None:
    """Press Confirm and SIGKILL the bot while `method`'s 429 holds it inside the handler."""
    await api.inject_fault(method, status=429, retry_after=HOLD_S)
    pressed = time.monotonic()
    await api.press(USER, summary["message_id"], data=CONFIRM)

    async def held() -> bool:
        return any(call["time"] > pressed and call["error_code"] == 429 for call in await api.calls(method))

    await until(held, 90, 0.05, what=f"the 429 on {method}")
    bot_process.kill()


async def _seconds_to_answer_help(api) -> float:
    count = len(await api.messages(USER))
    sent = time.monotonic()
    await api.send_text(USER, "/help")
    answered = lambda messages: len(messages) > count and messages[-1]["text"].startswith("How it works:")
    await api.wait_for(USER, answered, timeout=ANSWER_BOUND_S)
    return time.monotonic() - sent


async def test_a_bot_killed_inside_confirm_answers_when_back_and_keeps_the_tap(
    bot_process, worker, api, redis, figures
):
    await bot_process.started(api)
    summary = await reach_confirm(api, USER)
    # Killed with the slot taken and the status message on its way: before the job is queued.
    await _press_and_kill_inside(api, bot_process, summary, "sendMessage")
    assert _tickets(redis) and not redis.exists(JOBS_OF_KEY + str(USER))
    await bot_process.started(api)
    wait = await _seconds_to_answer_help(api)
    figures.set("bot killed in a tap: its seller's next message answered after the restart (s)", round(wait, 1))
    assert not _tickets(redis)  # the restarted bot gave the dead tap's slot back
    # The same Confirm, still under the summary, works; killed again once its job is queued, while
    # the buttons are taken off, before the step is left.
    await _press_and_kill_inside(api, bot_process, summary, "editMessageReplyMarkup")
    [job_id] = redis.smembers(JOBS_OF_KEY + str(USER))
    await bot_process.started(api)
    # A third tap finds the summary's job queued: "no longer active", and no second job.
    query_id = await api.press(USER, summary["message_id"], data=CONFIRM)

    async def answered() -> bool:
        return any(answer["callback_query_id"] == query_id for answer in await api.callback_answers(USER))

    await until(answered, 90, 0.05, what="the third tap's answer")
    [answer] = [answer for answer in await api.callback_answers(USER) if answer["callback_query_id"] == query_id]
    assert answer["text"] == "This button is no longer active."
    await api.wait_for(USER, with_button("rs:"), timeout=90)
    assert album_counts(await api.messages(USER)) == (2, 2, 1)
    assert redis.smembers(JOBS_OF_KEY + str(USER)) == {job_id} and not _tickets(redis)
