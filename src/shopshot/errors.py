"""Domain errors, each carrying the user-facing message it is answered with.

ShopshotError
 ├── InputError            the seller's input cannot be used (answered at once, nothing queued)
 │    ├── UnreadableImage      not an image we can decode (zero bytes, random bytes, truncated)
 │    ├── UnsupportedFormat    an image or file type we do not take (GIF, SVG, PDF …)
 │    │    ├── AnimatedImage       a GIF, WebP or PNG with several frames, or a Telegram animation
 │    │    └── VideoNotPhoto       a video, sent as a video, a video note or a file
 │    ├── FileTooLarge         over the byte limit
 │    ├── ImageTooLarge        over the pixel limit (decompression bombs land here)
 │    ├── ImageTooSmall        a side below the minimum
 │    ├── NoProductFound       the cut-out found nothing that looks like a product
 │    │    └── ProductUnclear      on a busy background, the cut-out is not sure which part is the product
 │    ├── InvalidOption        an unknown preset, ratio or variant count
 │    ├── DetailTooLong        a free-text addition over its length limit
 │    ├── DetailNotPlain       a free-text addition with control or invisible formatting characters
 │    ├── DetailRefused        a free-text addition asking for nudity or sex (the content policy)
 │    ├── DetailInvisible      a free-text addition that shows nothing (only invisible characters)
 │    ├── DetailStackedMarks   a free-text addition with marks piled on a letter ("Zalgo" text)
 │    ├── StickerNotPhoto      a sticker
 │    ├── AudioNotPhoto        a voice message or an audio file
 │    └── BatchFull            a photo past the most one batch takes
 ├── TaskUnavailable       no running worker can do that task now (no GPU worker up)
 ├── InputExpired          the stored photo or result is gone (TTL passed)
 ├── JobFailed             the worker could not finish a job
 ├── ResultsRefused        Telegram refused the finished images for good (too large, say)
 ├── ModelsMissing         a backend's model weights are not in the cache (operator: `shopshot models pull`)
 ├── LimitReached          a per-seller or queue-wide limit; the message says when to try again
 │    ├── TooManyJobs          the seller's jobs in flight (queued or running) are at the limit
 │    ├── TooManyPerMinute     the seller started the most jobs a minute allows
 │    ├── QueueFull            the queue holds the most jobs it may, all sellers together
 │    ├── TooManyUploads       the seller sent the most photos a minute allows
 │    └── StorageFull          the seller's stored photos take their whole quota
 ├── NotAllowed            a private deployment, and this user is not on its allow-list
 ├── NotEnoughCredits      the job costs more credits than the seller's balance and free images cover
 ├── JobTimedOut           a job ran past its time limit (not retried: it would run as long again)
 ├── UnsafeOutput          the safety check flagged a generated image, so none is delivered (not retried)
 └── OutOfMemory           the worker ran out of memory on every attempt (CUDA or host)

`message` is an English source string marked with `N_` and translated by the one place that
shows it; `params` fill its `{placeholders}` after translation. `code` names the error where it
crosses a process boundary (a job's failure event, an intake analysis' refusal): it stays when a
class is renamed or moved, and `from_code` finds the class again.
"""

from typing import ClassVar

__all__ = [
    "N_",
    "AnimatedImage",
    "AudioNotPhoto",
    "BatchFull",
    "DetailInvisible",
    "DetailNotPlain",
    "DetailRefused",
    "DetailStackedMarks",
    "DetailTooLong",
    "FileTooLarge",
    "ImageTooLarge",
    "ImageTooSmall",
    "InputError",
    "InputExpired",
    "InvalidOption",
    "JobFailed",
    "JobTimedOut",
    "LimitReached",
    "ModelsMissing",
    "NoProductFound",
    "NotAllowed",
    "NotEnoughCredits",
    "OutOfMemory",
    "ProductUnclear",
    "QueueFull",
    "ResultsRefused",
    "ShopshotError",
    "StickerNotPhoto",
    "StorageFull",
    "TaskUnavailable",
    "TooManyJobs",
    "TooManyPerMinute",
    "TooManyUploads",
    "UnreadableImage",
    "UnsafeOutput",
    "UnsupportedFormat",
    "VideoNotPhoto",
    "from_code",
]

_BY_CODE: dict[str, type["ShopshotError"]] = {}


def N_(message: str) -> str:
    """Mark a string for extraction by pybabel without translating it here."""
    return message


def from_code(code: str | None) -> type["ShopshotError"]:
    """The error class a code names; JobFailed for a code this process does not know."""
    return _BY_CODE.get(code or "", JobFailed)


class ShopshotError(Exception):
    """Base of every error a seller or operator can be shown."""

    message = N_("Something went wrong. Please try again.")
    code: ClassVar[str] = "shopshot_error"

    def __init_subclass__(cls, code: str, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if code in _BY_CODE:
            raise TypeError(f"error code {code!r} is taken by {_BY_CODE[code].__name__}")
        cls.code = code
        _BY_CODE[code] = cls

    def __init__(self, **params: object) -> None:
        self.params = params
        super().__init__(self.message.format(**params))


class InputError(ShopshotError, code="input_error"):
    message = N_("I can't use that input.")


class UnreadableImage(InputError, code="unreadable_image"):
    message = N_("I couldn't read that file as an image. Please send a JPEG, PNG, WebP or HEIC photo.")


class UnsupportedFormat(InputError, code="unsupported_format"):
    message = N_("{kind} files aren't supported. Please send a JPEG, PNG, WebP or HEIC photo.")


class AnimatedImage(UnsupportedFormat, code="animated_image"):
    message = N_("That's an animated image. Please send a still photo of your product (JPEG, PNG, WebP or HEIC).")


class VideoNotPhoto(UnsupportedFormat, code="video_not_photo"):
    message = N_("That's a video. Please send a still photo of your product (JPEG, PNG, WebP or HEIC).")


class FileTooLarge(InputError, code="file_too_large"):
    message = N_("That file is {size_mb} MB; the limit is {limit_mb} MB. Please send a smaller one.")


class ImageTooLarge(InputError, code="image_too_large"):
    message = N_("That image is too large ({width}×{height} pixels). Please send one under {limit_mp} megapixels.")


class ImageTooSmall(InputError, code="image_too_small"):
    message = N_(
        "That image is too small ({width}×{height} pixels). Please send one at least {min_side} pixels on each side."
    )


class NoProductFound(InputError, code="no_product_found"):
    message = N_(
        "I couldn't find a product in this photo. Send one item on a plain background: it may fill most of the "
        "frame, with a little background showing all around it."
    )


class ProductUnclear(NoProductFound, code="product_unclear"):
    message = N_(
        "I'm not sure which part of this photo is the product. Try a photo with the product alone on a plainer "
        "background, filling about half the frame."
    )


class InvalidOption(InputError, code="invalid_option"):
    message = N_("Unknown choice: {value}.")


class DetailTooLong(InputError, code="detail_too_long"):
    message = N_("Please keep the detail to one line of at most {limit} characters.")


class DetailNotPlain(InputError, code="detail_not_plain"):
    message = N_("Please write the detail as plain words, without control or invisible formatting characters.")


class DetailRefused(InputError, code="detail_refused"):
    message = N_(
        "I can't use that detail: nudity and sexual content aren't allowed. Please describe the scene around your product instead."
    )


class DetailInvisible(InputError, code="detail_invisible"):
    message = N_("Please write the detail in words: that line is made of invisible characters only.")


class DetailStackedMarks(InputError, code="detail_stacked_marks"):
    message = N_("Please write the detail in ordinary letters, without piles of accent marks stacked on them.")


class StickerNotPhoto(InputError, code="sticker_not_photo"):
    message = N_("Stickers can't be used as product photos. Please send a photo of your product.")


class AudioNotPhoto(InputError, code="audio_not_photo"):
    message = N_("I can't use voice or audio messages. Please send a photo of your product.")


class BatchFull(InputError, code="batch_full"):
    message = N_(
        "A batch takes at most {count} photos, so this one is left out. Send it again once this batch is done."
    )


class TaskUnavailable(ShopshotError, code="task_unavailable"):
    message = N_("That isn't available right now: no GPU studio is running. A new backdrop still works.")


class InputExpired(ShopshotError, code="input_expired"):
    message = N_("This photo has expired. Please send it again.")


class JobFailed(ShopshotError, code="job_failed"):
    message = N_("Something went wrong while making your images. Please try again.")


class ResultsRefused(ShopshotError, code="results_refused"):
    message = N_(
        "Your images were made, but Telegram would not accept them, so I couldn't send them. Please try again "
        "with another format or fewer variants."
    )


class ModelsMissing(ShopshotError, code="models_missing"):
    message = N_("Model weights are missing: {models}. Run `shopshot models pull` to download them.")


class LimitReached(ShopshotError, code="limit_reached"):
    message = N_("Please wait a moment before starting another job.")


class TooManyJobs(LimitReached, code="too_many_jobs"):
    message = N_(
        "Jobs in progress: {count}, the most you can have at once. You can start another as soon as one is finished."
    )


class TooManyPerMinute(LimitReached, code="too_many_per_minute"):
    message = N_("Jobs started in the last minute: {count}, the most allowed. Please try again in {seconds} s.")


class QueueFull(LimitReached, code="queue_full"):
    message = N_("The studio is very busy (jobs waiting: {count}). Please try again in {seconds} s.")


class TooManyUploads(LimitReached, code="too_many_uploads"):
    message = N_("Photos received in the last minute: {count}, the most allowed. Please try again in {seconds} s.")


class StorageFull(LimitReached, code="storage_full"):
    message = N_(
        "Your photos here take up all the room you have ({mb} MB). "
        "They are deleted a day after you used them; /forget deletes them now."
    )


class NotAllowed(ShopshotError, code="not_allowed"):
    message = N_("This is a private studio. To use it, ask its owner to add your Telegram id: {user_id}")


class NotEnoughCredits(ShopshotError, code="not_enough_credits"):
    message = N_("Credits this job needs: {cost}; your balance: {balance}. Buy more with /buy.")


class JobTimedOut(ShopshotError, code="job_timed_out"):
    message = N_("Making your images took too long, so I stopped. Please try again with fewer images.")


class UnsafeOutput(ShopshotError, code="unsafe_output"):
    message = N_(
        "The safety check flagged an image as possibly explicit, so I didn't send any. Please try again with another backdrop or detail."
    )


class OutOfMemory(ShopshotError, code="out_of_memory"):
    message = N_("The studio ran out of memory making your images. Please try again with fewer images.")
