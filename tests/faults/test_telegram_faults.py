"""Telegram answering 429, 5xx or not at all while a seller's job runs: every message arrives once."""

import pytest

from shopshot.bot import app
from shopshot.bot.callbacks import Step
from shopshot.launcher import worker_process
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, newer_than, reach_summary, with_button
from tests.conftest import BotRunner
from tests.faults.conftest import album_counts, reach_confirm
from tests.playground.pictures import size_of

USER = 901
TIMEOUT_S = 2.0  # the bot's request timeout in these tests; Telegram's default wait is 60 s

# Each fault: (method, fault arguments, count). A timeout is a request that hangs past the bot's
# timeout and then fails, so Telegram never accepted it (see middlewares.py for the other case).
FAULTS = {
    "429s": [
        ("sendMediaGroup", {"status": 429, "retry_after": 1}, 2),
        ("editMessageText", {"status": 429, "retry_after": 2}, 1),
        ("sendMessage", {"status": 429, "retry_after": 1}, 1),
    ],
    "5xx": [
        ("sendMediaGroup", {"status": 502, "retry_after": None}, 1),
        ("editMessageText", {"status": 500, "retry_after": None}, 1),
        ("sendMessage", {"status": 503, "retry_after": None}, 1),
    ],
    "timeouts": [
        ("sendMediaGroup", {"status": 504, "retry_after": None, "delay_s": TIMEOUT_S + 1.5}, 1),
        ("sendMessage", {"status": 504, "retry_after": None, "delay_s": TIMEOUT_S + 1.5}, 1),
    ],
}


@pytest.fixture
def impatient_bot(monkeypatch, settings, redis_url, stand_in):
    def create_bot(*args, **kwargs):
        bot = real_create_bot(*args, **kwargs)
        bot.session.timeout = TIMEOUT_S
        return bot

    real_create_bot = app.create_bot
    monkeypatch.setattr(app, "create_bot", create_bot)
    return BotRunner(settings, redis_url, stand_in)


def _recovered(calls: list[dict], failed: dict) -> bool:
    """A failed call is recovered when a later call of that method to that chat succeeded."""
    return any(c["ok"] and c["method"] == failed["method"] and c["time"] > failed["time"] for c in calls)


@pytest.mark.parametrize("kind", FAULTS)
async def test_every_message_arrives_once_through_telegram_faults(kind, impatient_bot, worker, api, figures):
    impatient_bot.start()
    summary = await reach_confirm(api, USER)
    for method, fault, count in FAULTS[kind]:
        await api.inject_fault(method, count=count, **fault)
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    await api.wait_for(USER, with_button("rs:"), timeout=90)
    await api.wait_for(USER, lambda messages: any((m["text"] or "").startswith("✅") for m in messages), timeout=30)
    messages = await api.messages(USER)
    assert album_counts(messages) == (2, 2, 1)
    calls = await api.calls()
    # Those that met an injected fault; on a loaded machine more calls can outlast the 2 s timeout (499), and must be recovered too.
    injected = [call for call in calls if call["injected"]]
    assert len(injected) == sum(count for _, _, count in FAULTS[kind])  # every injected fault was hit
    failed = [
        call for call in calls if call["error_code"] and call["error_code"] != 409
    ]  # 409: a getUpdates ended by the next
    assert all(not call["ok"] for call in injected)
    figures.add(f"Telegram {kind} injected", len(injected))
    figures.add(f"Telegram {kind} recovered", sum(_recovered(calls, call) for call in injected))
    assert all(_recovered(calls, call) for call in failed)
    await impatient_bot.stop()


async def test_a_12_mp_photo_rendered_at_9_16_reaches_the_seller_within_telegrams_photo_limits(
    bot, api, redis_url, tmp_path
):
    # 4058×7214 as a photo is over sendPhoto's width + height of 10,000: the stand-in refuses it as Telegram does.
    with worker_process(redis_url, tmp_path / "worker.log", {"BACKEND": "tests.queue.backends:Large"}):
        await api.send_text(USER, "/start")
        await api.wait_for(USER, newer_than(0), timeout=60)
        await api.send_photo(USER, sample_photo())
        summary = await reach_summary(api, USER, Choices(preset="studio", ratio="9:16", variants=2))
        await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
        await api.wait_for(USER, with_button("rs:"), timeout=90)
    messages = await api.messages(USER)
    assert album_counts(messages) == (2, 2, 1)
    assert not [call for call in await api.calls() if call["error_code"] and call["error_code"] != 409]
    [document, _] = [m for m in messages if m["kind"] == "document"]
    assert size_of(await api.download(document["file_id"])) == (4058, 7214)  # the file keeps every pixel
