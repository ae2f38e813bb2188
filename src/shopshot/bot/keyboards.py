"""Inline keyboards, labelled in the current seller's language."""

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from shopshot.bot.callbacks import (
    BackdropPicked,
    GalleryPage,
    LanguagePicked,
    OptionPicked,
    ResultAction,
    Step,
    ratio_to_data,
)
from shopshot.bot.languages import native_name
from shopshot.pipeline.layout import RATIOS, VARIANT_CHOICES
from shopshot.pipeline.presets import Backdrop

CHECK = "✓ "


def gallery(page_items: list[tuple[int, Backdrop]], page: int, pages: int) -> InlineKeyboardMarkup:
    """Numbered backdrop buttons matching the gallery image, then page arrows."""
    builder = InlineKeyboardBuilder()
    for number, item in page_items:
        builder.button(text=f"{number} · {_(item.title)}", callback_data=BackdropPicked(key=item.key))
    builder.adjust(2)
    if pages > 1:
        builder.row(*_pager(page, pages))
    builder.row(InlineKeyboardButton(text=_("Cancel"), callback_data=Step(action="cancel").pack()))
    return builder.as_markup()


def _pager(page: int, pages: int) -> list[InlineKeyboardButton]:
    previous, following = (page - 1) % pages, (page + 1) % pages
    return [
        InlineKeyboardButton(text="◀", callback_data=GalleryPage(page=previous).pack()),
        InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=GalleryPage(page=page).pack()),
        InlineKeyboardButton(text="▶", callback_data=GalleryPage(page=following).pack()),
    ]


def options(ratio: str, variants: int) -> InlineKeyboardMarkup:
    """Aspect ratio by use, number of variants, and Continue; the current choices are ticked."""
    builder = InlineKeyboardBuilder()
    for item in RATIOS:
        label = f"{item.key} {_(item.use)}"
        builder.button(text=_ticked(label, item.key == ratio), callback_data=OptionPicked(name="ratio", value=ratio_to_data(item.key)))
    for count in VARIANT_CHOICES:
        label = ngettext("{count} image", "{count} images", count).format(count=count)
        builder.button(text=_ticked(label, count == variants), callback_data=OptionPicked(name="variants", value=str(count)))
    builder.button(text=_("Continue ➜"), callback_data=Step(action="continue"))
    builder.adjust(2, 2, len(VARIANT_CHOICES), 1)
    return builder.as_markup()


def _ticked(label: str, chosen: bool) -> str:
    return CHECK + label if chosen else label


def confirm() -> InlineKeyboardMarkup:
    """Confirm / Change / Cancel under the summary."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Confirm"), callback_data=Step(action="confirm"))
    builder.button(text=_("Change"), callback_data=Step(action="change"))
    builder.button(text=_("Cancel"), callback_data=Step(action="cancel"))
    builder.adjust(1, 2)
    return builder.as_markup()


def results(job_id: str) -> InlineKeyboardMarkup:
    """What a seller can do next with a finished job."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🎨 Another backdrop"), callback_data=ResultAction(action="backdrop", job_id=job_id))
    builder.button(text=_("🎲 Variations"), callback_data=ResultAction(action="variations", job_id=job_id))
    builder.button(text=_("📷 New photo"), callback_data=ResultAction(action="new", job_id=job_id))
    builder.adjust(2, 1)
    return builder.as_markup()


def retry(job_id: str) -> InlineKeyboardMarkup:
    """A single Try again button under a failure message."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🔁 Try again"), callback_data=ResultAction(action="retry", job_id=job_id))
    return builder.as_markup()


def languages(codes: list[str], current: str) -> InlineKeyboardMarkup:
    """Every available language by its native name."""
    builder = InlineKeyboardBuilder()
    for code in codes:
        builder.button(text=_ticked(native_name(code), code == current), callback_data=LanguagePicked(code=code))
    builder.adjust(2)
    return builder.as_markup()
