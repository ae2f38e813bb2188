"""Logging of every process: text or one JSON object per line, user ids hashed, secrets redacted."""

import functools
import hashlib
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
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
    """The strings no log line may show: the bot token and its secret half, the Redis password, the webhook secret."""
    found = [secret.get_secret_value() for secret in (settings.telegram_bot_token, settings.webhook.secret) if secret]
    if settings.telegram_bot_token:
        # "<bot id>:<secret>": the id is public, the part after the colon is the credential on its own.
        found.append(settings.telegram_bot_token.get_secret_value().partition(":")[2])
    if settings.redis_url:
        found.append(unquote(urlsplit(settings.redis_url).password or ""))
    return [secret for secret in found if secret]


def hash_id(value: int, salt: str = "") -> str:
    """A stable pseudonym for a Telegram id: the same user reads the same in every line."""
    return hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()[:12]


class RedactingFormatter(logging.Formatter):
    """Blanks every secret in a record's message and traceback, then has `inner` format it, then blanks the line too."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = tuple(secret for secret in secrets if secret)

    def format(self, record: logging.LogRecord) -> str:
        # Before `inner`, not only after: JSON escapes a `"` or `\` in a password, and the escaped form no longer matches.
        clean = logging.makeLogRecord(record.__dict__)
        clean.msg, clean.args = redact(record.getMessage(), self.secrets), None
        if record.exc_info:
            clean.exc_text = redact(self.inner.formatException(record.exc_info), self.secrets)
        if record.stack_info:
            clean.stack_info = redact(record.stack_info, self.secrets)
        return redact(self.inner.format(clean), self.secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with each secret replaced by ***, also percent-encoded (either case) or split by whitespace."""
    pattern = _pattern(tuple(secrets))
    return pattern.sub(REDACTED, text) if pattern else text


@functools.lru_cache(maxsize=8)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern | None:
    # Longest first: of two secrets starting at the same place, the longer is blanked whole.
    spelled = [_spellings(secret) for secret in sorted(set(secrets), key=len, reverse=True) if secret]
    return re.compile("|".join(spelled)) if spelled else None


def _spellings(secret: str) -> str:
    """A pattern for `secret` as a line may carry it: each character as is or percent-encoded, whitespace between."""
    return r"\s*".join(_character(char) for char in secret)


def _character(char: str) -> str:
    encoded = quote(char, safe="")
    return re.escape(char) if encoded == char else f"(?:{re.escape(char)}|(?i:{re.escape(encoded)}))"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, job id, hashed user id, traceback."""

    def __init__(self, salt: str = "") -> None:
        super().__init__()
        self.salt = salt

    def format(self, record: logging.LogRecord) -> str:
        message = _ID_IN_TEXT.sub(
            lambda m: m.group(1) + '"' + hash_id(int(m.group(2)), self.salt) + '"', record.getMessage()
        )
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        if job_id := JOB_ID.get():
            entry["job_id"] = job_id
        if (user_id := USER_ID.get()) is not None:
            entry["user"] = hash_id(user_id, self.salt)
        if record.exc_info:
            trace = record.exc_text or self.formatException(record.exc_info)  # exc_text: the redacted one
            entry["error"] = _ID_IN_TEXT.sub(lambda m: m.group(1) + "…", trace)
        return json.dumps(entry, ensure_ascii=False)


@contextmanager
def about(job_id: str | None = None, user_id: int | None = None) -> Iterator[None]:
    """Name this job and user in every line logged inside the block."""
    job_token, user_token = JOB_ID.set(job_id), USER_ID.set(user_id)
    try:
        yield
    finally:
        USER_ID.reset(user_token)
        JOB_ID.reset(job_token)


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
    sys.excepthook = lambda kind, error, trace: root.critical(
        "uncaught %s", kind.__name__, exc_info=(kind, error, trace)
    )


def user_tag(settings: Settings, user_id: int) -> str:
    """A user's pseudonym for a log line: the hash the JSON formatter writes for them too."""
    return hash_id(user_id, _salt(settings))


def _salt(settings: Settings) -> str:
    salt = settings.observability.log_salt
    return salt.get_secret_value() if salt else ""
