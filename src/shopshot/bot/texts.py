"""The bot's longer messages, worded in the current seller's language.

Translate first, then format: placeholders are filled after gettext.
"""

from datetime import timedelta

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.dates import format_timedelta

from shopshot import errors
from shopshot.pipeline.layout import ratio
from shopshot.pipeline.presets import backdrop
from shopshot.queue.enqueue import JobState

BAR_CELLS = 10


def welcome() -> str:
    """The /start message."""
    return _(
        "Hi! I'm shopshot, your product-photo studio.\n\n"
        "Send me a photo of your product — one item on a plain background works best. "
        "I'll cut it out, put it on a studio backdrop you choose and send back ready-to-use images "
        "in about a minute. Your product's own pixels are never changed.\n\n"
        "/help — how it works · /language — change language · /cancel — start over"
    )


def help_text() -> str:
    """The /help message."""
    return _(
        "How it works:\n"
        "1. Send a product photo (as a file for the best quality: JPEG, PNG, WebP or HEIC).\n"
        "2. Pick a backdrop from the numbered gallery.\n"
        "3. Pick the format and how many variants you want.\n"
        "4. Confirm. You'll see your place in the queue, then progress.\n\n"
        "You get the images as an album plus full-resolution files. "
        "Each result has a seed: the same photo, choices and seed always give the same image."
    )


def summary(preset: str, ratio_key: str, variants: int) -> str:
    """What will be made, shown before Confirm."""
    count = ngettext("{count} image", "{count} images", variants).format(count=variants)
    return _("Ready to make:\n• Backdrop: {backdrop}\n• Format: {ratio} ({use})\n• Variants: {count}\n\nConfirm?").format(
        backdrop=_(backdrop(preset).title), ratio=ratio_key, use=_(ratio(ratio_key).use), count=count
    )


def status(state: JobState, typical_job_s: float) -> str:
    """The status message of a queued or running job."""
    if state.status == "queued" and state.position:
        wait = duration(state.position * typical_job_s)
        return _("⏳ In the queue: position {position}. Starting in about {wait}.").format(position=state.position, wait=wait)
    if state.status == "started":
        percent = round(state.progress * 100)
        left = _remaining(state, typical_job_s)
        return _("🎨 Working on it… {bar} {percent}%\nAbout {left} left.").format(bar=bar(state.progress), percent=percent, left=left)
    return _("⏳ Getting ready…")


def _remaining(state: JobState, typical_job_s: float) -> str:
    if state.progress > 0.05:
        seconds = state.elapsed_s / state.progress * (1 - state.progress)
    else:
        seconds = max(typical_job_s - state.elapsed_s, 1.0)
    return duration(seconds)


def bar(fraction: float) -> str:
    """A text progress bar; digits and blocks read the same in right-to-left languages."""
    filled = round(max(0.0, min(1.0, fraction)) * BAR_CELLS)
    return "▓" * filled + "░" * (BAR_CELLS - filled)


def duration(seconds: float) -> str:
    """A short, localized duration such as '5 seconds' or '2 minutes'."""
    locale = get_i18n().current_locale
    return format_timedelta(timedelta(seconds=max(1, round(seconds))), locale=locale, threshold=1.1)


def done(variants: int, seeds: list[int]) -> str:
    """The line under a finished album."""
    count = ngettext("Here is your image.", "Here are your {count} images.", variants).format(count=variants)
    return _("✅ {count}\nFull-resolution files are above. Seed: {seeds}").format(count=count, seeds=", ".join(map(str, seeds)))


def error(name: str, params: dict) -> str:
    """The message for a ShopshotError subclass named in a job event."""
    kind = getattr(errors, name, errors.JobFailed)
    if not (isinstance(kind, type) and issubclass(kind, errors.ShopshotError)):
        kind = errors.JobFailed
    return describe(kind, params)


def describe(kind: type[errors.ShopshotError], params: dict) -> str:
    """Translate an error's message and fill in its parameters."""
    return _(kind.message).format(**params)
