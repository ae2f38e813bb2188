"""The bot's replies the corpus expects, worded through gettext: render them with `Stack.speak`."""

from aiogram.utils.i18n import gettext as _


def photo_prompt() -> str:
    return _("Please send a photo of your product (JPEG, PNG, WebP or HEIC).")


def still_prompt() -> str:
    return _("Please use the buttons above, send a new photo to start over, or /cancel.")


def tip() -> str:
    return _("Tip: Telegram compresses photos. For the sharpest result, send the picture as a file (📎 → File).")


def gallery_caption() -> str:
    return _("Choose a backdrop by its number:")


def kept() -> str:
    return _(
        "This is what I'll keep of your photo. If part of your product is missing, send another photo on a plainer background."
    )


def batch_notice() -> str:
    return _(
        "📚 Several photos: they make one batch, all in the same look. Choose it once, below; I'll make every photo of this send that way."
    )


def started_over() -> str:
    return _("Got a new photo: starting over with this one.")


def stale() -> str:
    return _("This button is no longer active.")


def cancelled() -> str:
    return _("Cancelled. Send a new photo whenever you're ready.")


def forgotten() -> str:
    return _("Done: I deleted your photos, results, choices, saved looks and language setting.")
