"""Inline keyboards, labelled in the current seller's language."""

from collections.abc import Collection, Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from shopshot.bot.callbacks import (
    BackdropPicked,
    ChangePicked,
    CreditPackPicked,
    ForgetChoice,
    GalleryPage,
    JobChoice,
    LanguagePicked,
    LookPicked,
    ModelPage,
    ModelPicked,
    OptionPicked,
    PackPicked,
    ProductPicked,
    ResultAction,
    Step,
    TaskPicked,
    ratio_to_data,
)
from shopshot.bot.gallery import Preset
from shopshot.bot.languages import native_name
from shopshot.bot.looks import Look
from shopshot.config import CreditPack
from shopshot.pipeline.layout import RATIOS, VARIANT_CHOICES
from shopshot.pipeline.packs import Pack, pack
from shopshot.pipeline.presets import backdrop
from shopshot.pipeline.tasks import Task

CHECK = "✓ "
CANDIDATES_A_ROW = 4
PACKS_A_ROW = 2
# After the name of a pack whose marketplace publishes no image rule found: its images are not checked.
UNCHECKED_MARK = " *"


def tasks(looks: Sequence[Look] = ()) -> InlineKeyboardMarkup:
    """What to make from the photo; the seller's saved looks first."""
    builder = InlineKeyboardBuilder()
    for look in looks:
        builder.button(text=look_label(look), callback_data=LookPicked(id=look.id))
    builder.button(text=_("🖼 New backdrop"), callback_data=TaskPicked(task=Task.BACKDROP))
    builder.button(text=_("🧍 New model"), callback_data=TaskPicked(task=Task.MODEL))
    builder.button(text=_("👗 Mannequin → model"), callback_data=TaskPicked(task=Task.MANNEQUIN))
    builder.button(text=_("Cancel"), callback_data=Step(action="cancel"))
    builder.adjust(1)
    return builder.as_markup()


def gallery(
    page_items: list[tuple[int, Preset]],
    page: int,
    pages: int,
    picked: type[BackdropPicked | ModelPicked] = BackdropPicked,
    paging: type[GalleryPage | ModelPage] = GalleryPage,
    chosen: str | None = None,
    looks: Sequence[Look] = (),
) -> InlineKeyboardMarkup:
    """The seller's saved looks, one a row; numbered preset buttons as on the gallery image (`chosen` ticked); page arrows."""
    builder = InlineKeyboardBuilder()
    for look in looks:
        builder.row(InlineKeyboardButton(text=look_label(look), callback_data=LookPicked(id=look.id).pack()))
    for number, item in page_items:
        # The tick takes the separator's place, so a ticked label is no wider than the others.
        label = f"{CHECK}{number} {_(item.title)}" if item.key == chosen else f"{number} · {_(item.title)}"
        builder.button(text=label, callback_data=picked(key=item.key))
    builder.adjust(*[1] * len(looks), 2)
    if pages > 1:
        builder.row(*_pager(page, pages, paging))
    builder.row(InlineKeyboardButton(text=_("Cancel"), callback_data=Step(action="cancel").pack()))
    return builder.as_markup()


def candidates(count: int, chosen: Collection[int]) -> InlineKeyboardMarkup:
    """A toggle per numbered candidate (the `chosen` ones ticked), four to a row; All together; Continue and Cancel."""
    builder = InlineKeyboardBuilder()
    for number in range(1, count + 1):
        builder.button(
            text=_ticked(str(number), number in chosen), callback_data=ProductPicked(action="toggle", number=number)
        )
    builder.adjust(CANDIDATES_A_ROW)
    builder.row(InlineKeyboardButton(text=_("All together"), callback_data=ProductPicked(action="all").pack()))
    builder.row(
        InlineKeyboardButton(text=_("Continue ➜"), callback_data=ProductPicked(action="continue").pack()),
        InlineKeyboardButton(text=_("Cancel"), callback_data=Step(action="cancel").pack()),
    )
    return builder.as_markup()


def _pager(page: int, pages: int, paging: type[GalleryPage | ModelPage]) -> list[InlineKeyboardButton]:
    previous, following = (page - 1) % pages, (page + 1) % pages
    return [
        InlineKeyboardButton(text="◀", callback_data=paging(page=previous).pack()),
        InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=paging(page=page).pack()),
        InlineKeyboardButton(text="▶", callback_data=paging(page=following).pack()),
    ]


def options(
    ratio: str,
    variants: int,
    ratios: bool = True,
    detail: bool = False,
    counts: tuple[int, ...] = VARIANT_CHOICES,
    packs: bool = False,
    chosen_pack: str | None = None,
) -> InlineKeyboardMarkup:
    """Aspect ratio by use (when the task can change the frame), the image counts on offer, marketplace packs (the one
    chosen named and ticked, and then no format nor count), an optional detail, Continue."""
    builder = InlineKeyboardBuilder()
    for item in RATIOS if ratios else ():
        label = f"{item.key} {_(item.use)}"
        builder.button(
            text=_ticked(label, item.key == ratio and not chosen_pack),
            callback_data=OptionPicked(name="ratio", value=ratio_to_data(item.key)),
        )
    for count in counts:
        label = ngettext("{count} image", "{count} images", count).format(count=count)
        builder.button(
            text=_ticked(label, count == variants and not chosen_pack),
            callback_data=OptionPicked(name="variants", value=str(count)),
        )
    if packs:
        label = "🛒 " + pack_name(pack(chosen_pack)) if chosen_pack else _("🛒 Marketplace pack")
        builder.button(text=_ticked(label, bool(chosen_pack)), callback_data=Step(action="packs"))
    if detail:
        builder.button(text=_("✏️ Add a detail"), callback_data=Step(action="detail"))
    builder.button(text=_("Continue ➜"), callback_data=Step(action="continue"))
    builder.adjust(*((2, 2) if ratios else ()), len(counts), 1, 1)
    return builder.as_markup()


def packs(items: Sequence[Pack], chosen: str | None = None) -> InlineKeyboardMarkup:
    """One button a marketplace pack (the `chosen` one ticked; one whose rules were not found marked), then Back to the formats."""
    builder = InlineKeyboardBuilder()
    for item in items:
        label = item.name + ("" if item.checked else UNCHECKED_MARK)  # under "Choose a marketplace", the name says it
        builder.button(text=_ticked(label, item.key == chosen), callback_data=PackPicked(key=item.key))
    builder.adjust(PACKS_A_ROW)
    builder.row(InlineKeyboardButton(text=_("◀ Back"), callback_data=Step(action="formats").pack()))
    return builder.as_markup()


def pack_name(item: Pack) -> str:
    """ "Amazon pack", in the seller's language."""
    return _("{marketplace} pack").format(marketplace=item.name)


def look_label(look: Look) -> str:
    """A saved look's button, starred as Save this look is: its pack's marketplace or its format and count, and its backdrop."""
    if look.pack:
        parts = [pack(look.pack).name, _(backdrop(look.preset).title)]
    else:  # "×2": the images counted in a symbol, so the longest backdrop name still fits a phone's row
        parts = [_(backdrop(look.preset).title), look.ratio, f"×{look.variants}"]
    return "⭐ " + " · ".join(parts)


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


def results(job_id: str, variations: bool = True, save: bool = False) -> InlineKeyboardMarkup:
    """What a seller can do next with a finished job (Variations only where they can differ; Save this look for backdrops)."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🎨 Another backdrop"), callback_data=ResultAction(action="backdrop", job_id=job_id))
    if variations:
        builder.button(text=_("🎲 Variations"), callback_data=ResultAction(action="variations", job_id=job_id))
    builder.button(text=_("📷 New photo"), callback_data=ResultAction(action="new", job_id=job_id))
    if save:
        builder.button(text=_("⭐ Save this look"), callback_data=ResultAction(action="save", job_id=job_id))
    builder.adjust(1, 2 if variations else 1, 1)  # Save on a row of its own: its label is long in most languages
    return builder.as_markup()


def credit_packs(offered: list[CreditPack]) -> InlineKeyboardMarkup:
    """One button per pack of credits, with its price in Stars."""
    builder = InlineKeyboardBuilder()
    for offer in offered:
        builder.button(
            text=_("Credits: {credits} · ⭐ {stars}").format(credits=offer.credits, stars=offer.stars),
            callback_data=CreditPackPicked(key=offer.key),
        )
    builder.adjust(1)
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


def changes(parts: list[str], model_task: bool) -> InlineKeyboardMarkup:
    """What the seller can change from the summary, one button a part, then Back to the summary."""
    labels = {
        "product": _("📦 Products"),
        "backdrop": _("🖼 Scene") if model_task else _("🖼 Backdrop"),
        "options": _("🔢 Number of images") if model_task else _("📐 Format and number"),
        "detail": _("✏️ Detail line"),
        "model": _("🧍 Model"),
    }
    builder = InlineKeyboardBuilder()
    for part in parts:
        builder.button(text=labels[part], callback_data=ChangePicked(part=part))
    builder.button(text=_("◀ Back"), callback_data=ChangePicked(part="back"))
    builder.adjust(1)
    return builder.as_markup()


def queued(job_id: str) -> InlineKeyboardMarkup:
    """Cancel under the status of a job still waiting in the queue."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Cancel"), callback_data=JobChoice(action="cancel", job_id=job_id))
    return builder.as_markup()


def started(job_id: str) -> InlineKeyboardMarkup:
    """Keep or discard a job /cancel found already running."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Keep it"), callback_data=JobChoice(action="keep", job_id=job_id))
    builder.button(text=_("🗑 Discard it"), callback_data=JobChoice(action="discard", job_id=job_id))
    return builder.as_markup()


def forget(token: str) -> InlineKeyboardMarkup:
    """The answer to the /forget question: only the first button deletes."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🗑 Delete everything"), callback_data=ForgetChoice(action="delete", token=token))
    builder.button(text=_("Keep"), callback_data=ForgetChoice(action="keep", token=token))
    builder.adjust(1)
    return builder.as_markup()
