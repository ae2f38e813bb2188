"""Logging of every process: text or one JSON object per line, user ids hashed, secrets redacted."""

import hashlib
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from urllib.parse import quote, unquote, urlsplit

from shopshot.config import Settings

REDACTED = "***"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Set around a job (worker) or an update (bot), so that every line logged meanwhile names them.
JOB_ID: ContextVar[str | None] = ContextVar("shopshot_log_job_id", default=None)
USER_ID: ContextVar[int | None] = ContextVar("shopshot_log_user_id", default=None)
# RQ logs a job's description, which carries the spec's ids: `"user_id": 501` inside the JSON.
_ID_IN_TEXT = re.compile(r'("?(?:user_id|chat_id)"?\s*[:=]\s*)(-?\d+)')


def secrets_of(settings: Settings) -> list[str]:
    """The strings no log line may show: the bot token, the Redis password, the webhook secret."""
    found = [secret.get_secret_value() for secret in (settings.telegram_bot_token, settings.webhook.secret) if secret]
    if settings.redis_url:
        found.append(unquote(urlsplit(settings.redis_url).password or ""))
    # A password can also travel percent-encoded inside a URL.
    return sorted({variant for secret in found if secret for variant in (secret, quote(secret, safe=""))}, key=len, reverse=True)


def hash_id(value: int, salt: str = "") -> str:
    """A stable pseudonym for a Telegram id: the same user reads the same in every line."""
    return hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()[:12]


class RedactingFormatter(logging.Formatter):
    """Formats with `inner`, then blanks every secret in the finished line, traceback included."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record), self.secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with each secret replaced by ***."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, job id, hashed user id, traceback."""

    def __init__(self, salt: str = "") -> None:
        super().__init__()
        self.salt = salt

    def format(self, record: logging.LogRecord) -> str:
        message = _ID_IN_TEXT.sub(lambda m: m.group(1) + '"' + hash_id(int(m.group(2)), self.salt) + '"', record.getMessage())
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        if JOB_ID.get():
            entry["job_id"] = JOB_ID.get()
        if USER_ID.get() is not None:
            entry["user"] = hash_id(USER_ID.get(), self.salt)
        if record.exc_info:
            entry["error"] = _ID_IN_TEXT.sub(lambda m: m.group(1) + "…", self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


@contextmanager
def about(job_id: str | None = None, user_id: int | None = None) -> Iterator[None]:
    """Name this job and user in every line logged inside the block."""
    tokens = [JOB_ID.set(job_id), USER_ID.set(user_id)]
    try:
        yield
    finally:
        USER_ID.reset(tokens[1])
        JOB_ID.reset(tokens[0])


def about_job(job) -> AbstractContextManager[None]:
    """Name an RQ job and its seller in every line logged while it runs."""
    return about(job.id, json.loads(job.args[0]).get("user_id"))


def setup(settings: Settings) -> None:
    """Log to stderr at the configured level and format, with secrets redacted from every line."""
    observability = settings.observability
    inner = JsonFormatter(_salt(settings)) if observability.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    secrets = secrets_of(settings)
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(inner, secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # the stand-in's per-request lines
    # Python prints an uncaught exception itself, past every handler: send it through logging instead.
    sys.excepthook = lambda kind, error, trace: root.critical("uncaught %s", kind.__name__, exc_info=(kind, error, trace))


def user_tag(settings: Settings, user_id: int) -> str:
    """A user's pseudonym for a log line: the hash the JSON formatter writes for them too."""
    return hash_id(user_id, _salt(settings))


def _salt(settings: Settings) -> str:
    salt = settings.observability.log_salt
    return salt.get_secret_value() if salt else ""
