"""The log formatters (secrets redacted wherever they sit in a line, user ids hashed in JSON) and the
health verdict without Redis."""

import asyncio
import json
import logging
import threading
import time

from pydantic import SecretStr

from shopshot import logs
from shopshot.config import Settings

TOKEN = "1234567:AAH-unit-test-token"
PASSWORD = "p@ss/word"


def _settings(**overrides) -> Settings:
    values = {"telegram_bot_token": SecretStr(TOKEN), "redis_url": "redis://:p%40ss%2Fword@redis:6379/0"}
    return Settings(_env_file=None, **values | overrides)


def _record(message: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("test", logging.ERROR, __file__, 1, message, args, exc_info)


def test_secrets_are_redacted_from_the_message_and_the_traceback():
    settings = _settings()
    formatter = logs.RedactingFormatter(logging.Formatter(logs.TEXT_FORMAT), logs.secrets_of(settings))
    try:
        raise ConnectionError(f"https://api.telegram.org/bot{TOKEN}/getUpdates failed")
    except ConnectionError as error:
        line = formatter.format(
            _record("redis at %s", settings.redis_url, exc_info=(type(error), error, error.__traceback__))
        )
    assert TOKEN not in line and "p%40ss%2Fword" not in line and PASSWORD not in line
    assert "redis://:***@redis:6379/0" in line and "bot***/getUpdates" in line


def _text_line(message: str, settings: Settings | None = None) -> str:
    formatter = logs.RedactingFormatter(logging.Formatter("%(message)s"), logs.secrets_of(settings or _settings()))
    return formatter.format(_record("%s", message))


def test_the_tokens_secret_half_alone_is_redacted():
    secret_half = TOKEN.partition(":")[2]
    assert _text_line(f"token part {secret_half} rejected") == "token part *** rejected"


def test_percent_encoded_secrets_are_redacted_in_either_case():
    assert _text_line("redis://:p%40ss%2fword@redis:6379/0") == "redis://:***@redis:6379/0"
    assert _text_line("GET /bot1234567%3aAAH-unit-test-token/getMe") == "GET /bot***/getMe"


def test_a_token_split_by_whitespace_is_redacted():
    assert _text_line("token 1234567:AAH-unit-\n    test-token, wrapped") == "token ***, wrapped"


def test_a_password_json_would_escape_is_redacted_from_json_lines():
    password = 'pa"ss\\word'
    settings = _settings(redis_url="redis://:pa%22ss%5Cword@redis:6379/0", observability={"log_format": "json"})
    formatter = logs.RedactingFormatter(logs.JsonFormatter(), logs.secrets_of(settings))
    try:
        raise ConnectionError(f"AUTH {password} failed")
    except ConnectionError as error:
        line = formatter.format(_record("login with %s", password, exc_info=(type(error), error, error.__traceback__)))
    entry = json.loads(line)
    assert entry["message"] == "login with ***" and "AUTH *** failed" in entry["error"]
    assert json.dumps(password)[1:-1] not in line  # nor the escaped form, anywhere in the line


def test_json_lines_name_the_job_and_hash_the_user(monkeypatch):
    formatter = logs.JsonFormatter(salt="pepper")
    with logs.about("job-1", 555001):
        entry = json.loads(formatter.format(_record("queued %s", '{"chat_id": 555001, "user_id": 555001}')))
    assert entry["job_id"] == "job-1" and entry["user"] == logs.hash_id(555001, "pepper")
    assert "555001" not in json.dumps(entry) and entry["level"] == "ERROR"
    assert logs.hash_id(555001, "pepper") != logs.hash_id(555001, "salt")


def test_a_worker_is_unhealthy_without_its_redis():
    from redis import Redis

    from shopshot.health import redis_health, worker_health

    unreachable = Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=1)  # the discard port
    assert worker_health(unreachable, "rq:worker:x", 60) == "redis unreachable: ConnectionError"
    assert redis_health(unreachable) == "redis unreachable: ConnectionError"


async def test_the_bot_is_unhealthy_while_its_event_loop_is_blocked(redis):
    from shopshot.health import LoopBeat, bot_health

    beat = LoopBeat(every_s=0.05)
    beating = asyncio.create_task(beat.run())
    await asyncio.sleep(0.2)
    assert bot_health(redis, beat, max_age_s=0.5) is None
    # A synchronous call on the loop (what a handler must never make): the health server runs on its own thread.
    answers = []
    checker = threading.Timer(1.0, lambda: answers.append(bot_health(redis, beat, max_age_s=0.5)))
    checker.start()
    time.sleep(1.5)  # noqa: ASYNC251 (the stall under test)
    checker.join()
    assert answers[0].startswith("event loop stalled for")
    await asyncio.sleep(0.2)
    assert bot_health(redis, beat, max_age_s=0.5) is None
    beating.cancel()
