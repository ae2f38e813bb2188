"""Telegram answering 429, 5xx or not at all while a seller's job runs: every message arrives once."""

import pytest

from shopshot.bot import app
from shopshot.bot.callbacks import Step
from shopshot.playground.scripted import with_button
from tests.conftest import BotRunner
from tests.faults.conftest import album_counts, reach_confirm

USER = 901
TIMEOUT_S = 2.0  # the bot's request timeout in these tests; Telegram's default wait is 60 s

# Each fault: (method, fault arguments, count). A timeout is a request that hangs past the bot's
# timeout and then fails, so Telegram never accepted it (see middlewares.py for the other case).
FAULTS = {
    "429s": [("sendMediaGroup", {"status": 429, "retry_after": 1}, 2), ("editMessageText", {"status": 429, "retry_after": 2}, 1),
             ("sendMessage", {"status": 429, "retry_after": 1}, 1)],
    "5xx": [("sendMediaGroup", {"status": 502, "retry_after": None}, 1), ("editMessageText", {"status": 500, "retry_after": None}, 1),
            ("sendMessage", {"status": 503, "retry_after": None}, 1)],
    "timeouts": [("sendMediaGroup", {"status": 504, "retry_after": None, "delay_s": TIMEOUT_S + 1.5}, 1),
                 ("sendMessage", {"status": 504, "retry_after": None, "delay_s": TIMEOUT_S + 1.5}, 1)],
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
    failed = [call for call in calls if call["error_code"] and call["error_code"] != 409]  # 409: a getUpdates ended by the next
    assert len(failed) == sum(count for _, _, count in FAULTS[kind])  # every injected fault was hit
    figures.add(f"Telegram {kind} injected", len(failed))
    figures.add(f"Telegram {kind} recovered", sum(_recovered(calls, call) for call in failed))
    assert all(_recovered(calls, call) for call in failed)
    await impatient_bot.stop()
