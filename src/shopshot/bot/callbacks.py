"""Callback data for inline buttons (Telegram allows 64 bytes)."""

from aiogram.filters.callback_data import CallbackData

from shopshot.pipeline.tasks import Task


class TaskPicked(CallbackData, prefix="tk"):
    task: Task


class BackdropPicked(CallbackData, prefix="bd"):
    key: str


class GalleryPage(CallbackData, prefix="pg"):
    page: int


class ModelPicked(CallbackData, prefix="md"):
    key: str


class ModelPage(CallbackData, prefix="mp"):
    page: int


class OptionPicked(CallbackData, prefix="op"):
    name: str  # "ratio" or "variants"
    value: str  # ratio keys travel with "x" for ":" (the callback separator)


class ProductPicked(CallbackData, prefix="pr"):
    action: str  # "toggle" (the candidate `number`, from 1), "all" or "continue"
    number: int = 0


class Step(CallbackData, prefix="st"):
    action: (
        str  # "continue", "confirm", "change", "cancel", "detail", "packs" (the list of them), "formats" (back from it)
    )


class PackPicked(CallbackData, prefix="pk"):
    key: str  # a marketplace pack (`pipeline.packs`)


class LookPicked(CallbackData, prefix="lk"):
    id: str  # a saved look's (`bot.looks.Look.id`), among those offered with the photo


class ChangePicked(CallbackData, prefix="cg"):
    part: str  # "product", "backdrop", "options", "detail", "model" or "back" (to the summary, nothing changed)


class ResultAction(CallbackData, prefix="rs"):
    action: str  # "backdrop", "variations", "retry", "new", "save" (the look)
    job_id: str


class JobChoice(CallbackData, prefix="jb"):
    action: str  # "cancel" (under a queued job's status), "keep" or "discard" (a running one's)
    job_id: str


class ForgetChoice(CallbackData, prefix="fg"):
    action: str  # "delete" or "keep"
    token: str  # the one of the seller's latest /forget question


class LanguagePicked(CallbackData, prefix="lg"):
    code: str


def ratio_to_data(key: str) -> str:
    """Encode a ratio key for callback data."""
    return key.replace(":", "x")


def ratio_from_data(value: str) -> str:
    """Decode a ratio key from callback data."""
    return value.replace("x", ":")


class CreditPackPicked(CallbackData, prefix="cp"):
    key: str  # a pack of credits of BILLING__PACKS
