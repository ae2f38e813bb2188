"""A job that raises, one past its time limit, one whose worker runs out of memory: through the real bot,
the stand-in and a worker process, the seller is told in their language and offered a retry."""

import pytest
from babel.support import Translations

from shopshot.bot.callbacks import ResultAction, Step
from shopshot.bot.delivery import DELIVERED_KEY
from shopshot.errors import JobFailed, JobTimedOut, OutOfMemory
from shopshot.launcher import worker_process
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, buttons, newer_than, reach_summary, with_button
from tests.conftest import until
from tests.languages import LOCALES, TELEGRAM_CODES

USER = 601


@pytest.fixture
def short_time_limit(monkeypatch):
    monkeypatch.setenv("QUEUE__JOB_TIMEOUT_S", "3")  # read by the bot, which sets each job's limit


async def _confirm_a_job(api, language: str) -> dict:
    code = TELEGRAM_CODES[language]
    await api.send_text(USER, "/start", language_code=code)
    await api.wait_for(USER, newer_than(0))
    await api.send_photo(USER, sample_photo(), language_code=code)
    summary = await reach_summary(api, USER, Choices(preset="white", variants=1), language=code)
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack(), language_code=code)
    return await api.wait_for(USER, with_button(f"{ResultAction.__prefix__}:"), timeout=120)


# (backend, what the seller reads, language, lines the worker logs for the job): a time limit is not
# retried (it would run as long again); an error and out-of-memory are, `retries` times.
CASES = [
    ("Raising", JobFailed, "es", "failed (0 retries left): RuntimeError"),
    ("Hanging", JobTimedOut, "ru", "failed, not retried: JobTimedOut"),
    ("OutOfMemory", OutOfMemory, "ja", "failed (0 retries left): OutOfMemoryError"),
]


@pytest.mark.parametrize(("backend", "error", "language", "last_line"), CASES)
async def test_a_failed_job_is_answered_in_the_sellers_language_with_a_retry_button(
    short_time_limit, bot, api, redis, redis_url, settings, tmp_path, backend, error, language, last_line
):
    log = tmp_path / "worker.log"
    with worker_process(redis_url, log, {"BACKEND": f"tests.queue.backends:{backend}"}):
        failure = await _confirm_a_job(api, language)
    translations = Translations.load(LOCALES, [language], "shopshot")
    assert failure["text"] == translations.gettext(error.message)
    [retry] = buttons(failure)
    assert retry["text"] == translations.gettext("🔁 Try again")
    # Recorded just after the failure message went out: the test may look before that.
    [delivered] = await until(lambda: redis.keys(DELIVERED_KEY + "*"), 10, what="the delivery record")
    job_id = delivered.decode().removeprefix(DELIVERED_KEY)
    lines = [line for line in log.read_text().splitlines() if f"job {job_id} failed" in line]
    attempts = 1 if error is JobTimedOut else settings.queue.retries + 1
    assert len(lines) == attempts and last_line in lines[-1]
