"""The bot's longer messages, worded in the current seller's language.

Translate first, then format: placeholders are filled after gettext.
"""

import math
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel import Locale
from babel.dates import format_timedelta
from babel.numbers import format_decimal, format_percent

from shopshot import errors
from shopshot.bot.draft import Draft
from shopshot.bot.keyboards import pack_name
from shopshot.pipeline.backdrops import STYLES
from shopshot.pipeline.layout import Fit, Ratio, expected_fit, ratio
from shopshot.pipeline.packs import Pack, Refusal, Verdict, pack, rule_title, with_preset, words
from shopshot.pipeline.people import model_preset
from shopshot.pipeline.presets import backdrop
from shopshot.queue.enqueue import JobState, Status

BAR_CELLS = 10
# Unicode isolates (RLI, LRI … PDI) keep a run of neutral characters and digits in one direction whatever
# surrounds it; renderers that predate them drop them, as they are default-ignorable code points.
RLI, LRI, PDI = "\u2067", "\u2066", "\u2069"
# A product enlarged more than this for its format looks soft: the summary says so before Confirm.
SOFT_ABOVE = 1.5


def welcome() -> str:
    """The /start message."""
    return _(
        "Hi! I'm shopshot, your product-photo studio.\n\n"
        "Send me a photo of your product — one item on a plain background works best. "
        "I'll cut it out, put it on a studio backdrop you choose and send back ready-to-use images "
        "in about a minute. Your product is never redrawn.\n\n"
        "/help — how it works · /language — change language · /cancel — start over"
    )


def help_text() -> str:
    """The /help message."""
    return _(
        "How it works:\n"
        "1. Send a product photo (as a file for the best quality: JPEG, PNG, WebP or HEIC).\n"
        "2. Pick a backdrop from the numbered gallery.\n"
        "3. Pick the format and how many variants you want. Or tap 🛒 Marketplace pack: the images a listing needs on "
        "Amazon, eBay, Ozon and more, checked against the rules each marketplace publishes.\n"
        "4. Confirm. You'll see your place in the queue, then progress.\n\n"
        "For the best photo: one product, on a plain background, in good light, filling most of the frame. "
        "Send it as a file (📎 → File) to keep its full quality.\n\n"
        "You get the images as an album plus full-resolution files. "
        "Each file's caption has its seed: the same photo, choices and seed always give the same image.\n\n"
        "/forget — delete your photos, results and our conversation."
    )


def kept() -> str:
    """The caption of the picture of what the cut-out keeps of a new photo."""
    return _(
        "This is what I'll keep of your photo. If part of your product is missing, send another photo on a plainer background."
    )


def candidates_prompt() -> str:
    """The caption of the picture of a photo's candidates, numbered."""
    return _(
        "I see more than one product in this photo. Tap the numbers of the ones to keep, then Continue, "
        "or keep them all together."
    )


def choose_a_candidate() -> str:
    """The alert of a Continue pressed with no candidate chosen."""
    return _("Tap the number of at least one product first.")


def options_prompt(preset: str) -> str:
    """The question above the format and variant buttons."""
    return _("Backdrop: {backdrop}. Now choose the format and how many variants:").format(
        backdrop=_(backdrop(preset).title)
    )


def summary(
    preset: str, ratio_key: str, variants: int, photo_size: tuple[int, int], model: str | None = None, detail: str = ""
) -> str:
    """What will be made, shown before Confirm; the seller's own detail line is quoted as written."""
    count = ngettext("{count} image", "{count} images", variants).format(count=variants)
    if model:  # the model tasks keep the photo's frame, so no format line
        text = _("Ready to make:\n• Model: {model}\n• Scene: {backdrop}\n• Variants: {count}\n\nConfirm?").format(
            model=_(model_preset(model).title), backdrop=_(backdrop(preset).title), count=count
        )
    else:
        shape = ratio(ratio_key)
        framing = expected_fit(photo_size, shape, STYLES[backdrop(preset).key].fill)
        text = _(
            "Ready to make:\n• Backdrop: {backdrop}\n• Format: {ratio} ({use})\n• Variants: {count}\n\nConfirm?"
        ).format(
            backdrop=_(backdrop(preset).title), ratio=ratio_key, use=_output(shape, framing), count=count
        ) + _small_photo(shape, framing, photo_size)
    return f"✏️ {detail}\n{text}" if detail else text


def _output(shape: Ratio, framing: Fit) -> str:
    """The format's use and its output size: the target, or more where the product keeps its own, larger pixels."""
    width, height = shape.target
    if framing.scale > 1:
        return _("{use}, {width}×{height} px").format(use=_(shape.use), width=width, height=height)
    return _("{use}, {width}×{height} px or more").format(use=_(shape.use), width=width, height=height)


def _small_photo(shape: Ratio, framing: Fit, photo_size: tuple[int, int]) -> str:
    """A warning after the summary when the product would be enlarged enough to look soft, else nothing."""
    if framing.scale <= SOFT_ABOVE:
        return ""
    (width, height), (target_width, target_height) = photo_size, shape.target
    return "\n\n" + _(
        "⚠️ Your photo is only {width}×{height} px, so the product will be enlarged to fill {target_width}×{target_height} px "
        "and may look soft. For a sharp result, send the original as a file (📎 → File): Telegram shrinks pictures sent "
        "as photos to about 1280 px."
    ).format(width=width, height=height, target_width=target_width, target_height=target_height)


def summary_of(draft: Draft) -> str:
    """The summary of a conversation's choices (the photo's size from intake); a batch says how many photos it makes so."""
    if draft.pack:
        text = pack_summary(pack(draft.pack), draft.preset_key, draft.prompt_extra)
    else:
        text = summary(
            draft.preset_key, draft.ratio, draft.variants, (draft.width, draft.height), draft.model, draft.prompt_extra
        )
    if not draft.batch:
        return text
    photos = draft.photo_count
    return (
        ngettext(
            "📚 A batch of {count} photo, every one made like this:",
            "📚 A batch of {count} photos, every one made like this:",
            photos,
        ).format(count=photos)
        + "\n"
        + text
    )


def packs_prompt() -> str:
    """The question above the marketplace packs."""
    return _(
        "Choose a marketplace: I make the images a listing needs there, in its format, and check each one against "
        "the marketplace's published image rules. Packs marked * have no published rule I could find: "
        "their images are made but not checked."
    )


def pack_summary(chosen: Pack, preset: str, detail: str = "") -> str:
    """What a pack will make, image by image, shown before Confirm; the images no published rule checks are named."""
    shots = with_preset(chosen, preset).shots
    images = "\n".join(f"  ◦ {rule_title(shot.rule, _)}: {_(backdrop(shot.preset).title)}" for shot in shots)
    text = _("Ready to make:\n• Marketplace pack: {pack}\n• Format: {ratio}\n• Images:\n{images}\n\nConfirm?").format(
        pack=pack_name(chosen), ratio=chosen.ratio, images=images
    )
    unchecked = [rule_title(rule, _) for rule in dict.fromkeys(shot.rule for shot in shots) if not rule.checked]
    if unchecked:
        text += "\n\n" + _(
            "⚠️ No published image rule found for: {images}. Those images are made in the pack's format but not checked."
        ).format(images=", ".join(unchecked))
    return f"✏️ {detail}\n{text}" if detail else text


def pack_refused(chosen: Pack, refusals: Sequence[Refusal]) -> str:
    """Why a pack cannot be made from this photo, rule by rule, before anything is queued."""
    locale = get_i18n().current_locale
    reasons = "\n".join(
        f"• {rule_title(refusal.rule, _)}: {words(refusal.finding, _, partial(_number, locale=locale))}"
        for refusal in refusals
    )
    return _(
        "I can't make the {pack} from this photo:\n{reasons}\n\nSend a larger photo as a file (📎 → File), or "
        "choose another format or pack."
    ).format(pack=pack_name(chosen), reasons=reasons)


def verdict_line(values: dict) -> str:
    """One pack image's compliance, as a worker measured it: what was checked, then ✓ or ✗; no ✓ where nothing was."""
    locale = get_i18n().current_locale
    try:
        verdict = Verdict.from_dict(values)
    except errors.InvalidOption:  # a rule or finding this version does not know: no line rather than a wrong one
        return ""
    return verdict.line(_, partial(_number, locale=locale))


def look_saved() -> str:
    """The answer to Save this look."""
    return _("Saved. With your next photo, this look is the first button.")


def detail_prompt() -> str:
    """Asking for the optional one-line addition to a scene."""
    return _(
        "Write one short line to add to the scene, for example: on a marble table with eucalyptus leaves. Or /cancel."
    )


def status(state: JobState, typical_job_s: float, workers: int = 1) -> str:
    """The status message of a queued or running job; `workers` serve its queue, so share the wait."""
    if state.status == Status.QUEUED and state.position:
        if workers < 1:
            return _(
                "⏳ In the queue: position {position}. The studio is offline right now; your job starts as soon as it is back."
            ).format(position=state.position)
        wait = duration(math.ceil(state.position / workers) * typical_job_s)
        return _("⏳ In the queue: position {position}. Starting in about {wait}.").format(
            position=state.position, wait=wait
        )
    if state.status == Status.STARTED:
        left = _remaining(state, typical_job_s)
        return _("🎨 Working on it… {progress}\nAbout {left} left.").format(progress=gauge(state.progress), left=left)
    return _("⏳ Getting ready…")


def batch_status(total: int, left: list[JobState], typical_job_s: float, workers: int = 1) -> str:
    """The status message of a batch of `total` photos, `left` the states of those not done yet; `workers` share the rest."""
    running = sum(state.progress for state in left if state.status == Status.STARTED)
    done = total - len(left)
    seconds = (len(left) - running) * typical_job_s / max(1, min(workers, len(left)))
    return ngettext(
        "📚 {done} of {total} photo done {gauge}\nAbout {left} left.",
        "📚 {done} of {total} photos done {gauge}\nAbout {left} left.",
        total,
    ).format(done=done, total=total, gauge=gauge((done + running) / max(1, total)), left=duration(seconds))


def batch_done(made: int, images: int) -> str:
    """The line under a delivered batch: how many photos were made, in how many images."""
    photos = ngettext("{count} photo", "{count} photos", made).format(count=made)
    count = ngettext("{count} image", "{count} images", images).format(count=images)
    return _("✅ Your batch is ready: {photos}, {images}. Full-resolution files are above.").format(
        photos=photos, images=count
    )


def batch_failures(failures: dict[int, str]) -> str:
    """The photos of a batch that were not made, by their numbers, grouped by the reason (thirty long reasons would not fit a message)."""
    by_reason: dict[str, list[int]] = {}
    for number, reason in sorted(failures.items()):
        by_reason.setdefault(reason, []).append(number)
    return "\n".join(
        ngettext("Photo {numbers}: {reason}", "Photos {numbers}: {reason}", len(numbers)).format(
            numbers=", ".join(map(str, numbers)), reason=reason
        )
        for reason, numbers in by_reason.items()
    )


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


def files_left_out(files: list[tuple[str, int]], limit_mb: int) -> str:
    """The note on full-resolution files over what Telegram lets a bot send, each named with its seed."""
    named = ", ".join(f"{name} ({seed_caption(seed)})" for name, seed in files)
    return _(
        "⚠️ Some full-resolution files are over {limit_mb} MB, the most Telegram lets a bot send, so they "
        "could not be sent: {files}. The album above has a smaller copy of each."
    ).format(limit_mb=limit_mb, files=named)


def seed_caption(seed: int) -> str:
    """A full-resolution file's caption: the seed that makes that image again."""
    return _("Seed: {seed}").format(seed=seed)


def file_caption(seed: int, verdict: dict) -> str:
    """A full-resolution file's caption: a pack image's compliance, where it has one, and its seed."""
    line = verdict_line(verdict) if verdict else ""
    return f"{line}\n{seed_caption(seed)}" if line else seed_caption(seed)


def done(variants: int, verdicts: Sequence[dict] = ()) -> str:
    """The line under a finished album; for a pack, each image's compliance with its marketplace's rules."""
    count = ngettext("Here is your image.", "Here are your {count} images.", variants).format(count=variants)
    text = _("✅ {count}\nFull-resolution files are above.").format(count=count)
    lines = [line for line in map(verdict_line, verdicts) if line]
    if lines:
        text += "\n\n" + _("Checked against the marketplace's published rules:") + "\n" + "\n".join(lines)
    return text


def error(code: str, params: dict) -> str:
    """The message for the error a job event names by its code."""
    return describe(errors.from_code(code), params)


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
