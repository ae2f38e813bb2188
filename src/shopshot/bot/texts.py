"""The bot's longer messages, worded in the current seller's language.

Translate first, then format: placeholders are filled after gettext.
"""

import math
from datetime import timedelta

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel import Locale
from babel.dates import format_timedelta
from babel.numbers import format_decimal, format_percent

from shopshot import errors
from shopshot.pipeline.layout import ratio
from shopshot.pipeline.people import model_preset
from shopshot.pipeline.presets import backdrop
from shopshot.queue.enqueue import JobState

BAR_CELLS = 10
# Unicode isolates (RLI, LRI … PDI) keep a run of neutral characters and digits in one direction whatever
# surrounds it; renderers that predate them drop them, as they are default-ignorable code points.
RLI, LRI, PDI = "\u2067", "\u2066", "\u2069"


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
        "Each result has a seed: the same photo, choices and seed always give the same image.\n\n"
        "/forget — delete your photos, results and our conversation."
    )


def kept() -> str:
    """The caption of the picture of what the cut-out keeps of a new photo."""
    return _("This is what I'll keep of your photo. If part of your product is missing, send another photo on a plainer background.")


def options_prompt(preset: str) -> str:
    """The question above the format and variant buttons."""
    return _("Backdrop: {backdrop}. Now choose the format and how many variants:").format(backdrop=_(backdrop(preset).title))


def summary(preset: str, ratio_key: str, variants: int, model: str | None = None, detail: str = "") -> str:
    """What will be made, shown before Confirm; the seller's own detail line is quoted as written."""
    count = ngettext("{count} image", "{count} images", variants).format(count=variants)
    if model:  # the model tasks keep the photo's frame, so no format line
        text = _("Ready to make:\n• Model: {model}\n• Scene: {backdrop}\n• Variants: {count}\n\nConfirm?").format(
            model=_(model_preset(model).title), backdrop=_(backdrop(preset).title), count=count
        )
    else:
        text = _("Ready to make:\n• Backdrop: {backdrop}\n• Format: {ratio} ({use})\n• Variants: {count}\n\nConfirm?").format(
            backdrop=_(backdrop(preset).title), ratio=ratio_key, use=_(ratio(ratio_key).use), count=count
        )
    return f"✏️ {detail}\n{text}" if detail else text


def summary_of(data: dict) -> str:
    """The summary of the choices a conversation keeps in its FSM data."""
    return summary(data["preset"], data["ratio"], data["variants"], data.get("model"), data.get("prompt_extra", ""))


def detail_prompt() -> str:
    """Asking for the optional one-line addition to a scene."""
    return _("Write one short line to add to the scene, for example: on a marble table with eucalyptus leaves. Or /cancel.")


def status(state: JobState, typical_job_s: float, workers: int = 1) -> str:
    """The status message of a queued or running job; `workers` serve its queue, so share the wait."""
    if state.status == "queued" and state.position:
        if workers < 1:
            return _("⏳ In the queue: position {position}. The studio is offline right now; your job starts as soon as it is back.").format(position=state.position)
        wait = duration(math.ceil(state.position / workers) * typical_job_s)
        return _("⏳ In the queue: position {position}. Starting in about {wait}.").format(position=state.position, wait=wait)
    if state.status == "started":
        left = _remaining(state, typical_job_s)
        return _("🎨 Working on it… {progress}\nAbout {left} left.").format(progress=gauge(state.progress), left=left)
    return _("⏳ Getting ready…")


def _remaining(state: JobState, typical_job_s: float) -> str:
    if state.progress > 0.05:
        seconds = state.elapsed_s / state.progress * (1 - state.progress)
    else:
        seconds = max(typical_job_s - state.elapsed_s, 1.0)
    return duration(seconds)


def bar(fraction: float) -> str:
    """A text progress bar of BAR_CELLS blocks."""
    filled = round(_clamp(fraction) * BAR_CELLS)
    return "▓" * filled + "░" * (BAR_CELLS - filled)


def gauge(fraction: float) -> str:
    """The bar and the percentage, in the current locale's writing direction, as one unit."""
    locale = Locale.parse(get_i18n().current_locale)
    shown = f"{bar(fraction)} {format_percent(_clamp(fraction), locale=locale)}"
    if locale.text_direction == "rtl":
        # Isolated, the gauge reads as one right-to-left unit: the bar fills from the right, as mirrored
        # progress bars do, and "42%" stays whole at its end. Left alone after Arabic words, the bidi
        # algorithm turns the digits into Arabic numbers, which strands the % sign on their other side,
        # and the bar takes its direction from whatever text surrounds it.
        return RLI + shown + PDI
    return shown


def _clamp(fraction: float) -> float:
    return max(0.0, min(1.0, fraction))


def duration(seconds: float) -> str:
    """A short, localized duration such as '5 seconds' or '2 minutes'."""
    locale = get_i18n().current_locale
    return format_timedelta(timedelta(seconds=max(1, round(seconds))), locale=locale, threshold=1.1)


def files_left_out(seeds: list[int], limit_mb: int) -> str:
    """The note on full-resolution files over what Telegram lets a bot send."""
    return _("⚠️ Some full-resolution files are over {limit_mb} MB, the most Telegram lets a bot send, so they could not be sent (seeds: {seeds}). The album above has a smaller copy of each.").format(
        limit_mb=limit_mb, seeds=", ".join(map(str, seeds))
    )


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
    """Translate an error's message and fill in its parameters, numbers written the locale's way."""
    locale = get_i18n().current_locale
    shown = {name: _number(value, locale) for name, value in params.items()}
    return _(kind.message).format(**shown)


def _number(value: object, locale: str) -> object:
    # 12.5 MB is "12,5 MB" in German; 8000 pixels are "8 000" in Russian.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_decimal(value, locale=locale)
    return value
