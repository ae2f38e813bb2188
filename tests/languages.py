"""The languages shopshot speaks, as the tests see them: found from the committed catalogs."""

from pathlib import Path

from aiogram.types import InlineKeyboardMarkup
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from shopshot.bot import keyboards
from shopshot.bot.callbacks import ModelPage, ModelPicked
from shopshot.bot.gallery import Gallery, model_gallery
from shopshot.bot.looks import Look
from shopshot.pipeline.gallery import render_gallery
from shopshot.pipeline.layout import RATIOS, VARIANT_CHOICES
from shopshot.pipeline.packs import packs
from shopshot.pipeline.presets import BACKDROPS

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "src" / "shopshot" / "locales"
DOMAIN = "shopshot"
LANGUAGES = tuple(sorted(path.parents[1].name for path in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po")))

# What Telegram sends as `language_code` for a seller of each catalog (IETF tags, lower case).
TELEGRAM_CODES = {
    "en": "en",
    "zh_Hans": "zh-hans",
    "zh_Hant": "zh-hant",
    "es": "es",
    "pt_BR": "pt-br",
    "ru": "ru",
    "ar": "ar",
    "id": "id",
    "vi": "vi",
    "th": "th",
    "tr": "tr",
    "ja": "ja",
    "ko": "ko",
    "fr": "fr",
    "de": "de",
    "hi": "hi",
}


def po_path(language: str) -> Path:
    """Where a language's catalog is kept."""
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalogs(target: Path) -> Path:
    """Compile every committed catalog into `target`, laid out as aiogram's I18n expects; return it."""
    for language in LANGUAGES:
        mo = target / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po_path(language).open("rb") as source, mo.open("wb") as compiled:
            write_mo(compiled, read_po(source))
    return target


def extract_template(pot: Path) -> Catalog:
    """Extract the strings marked in the source now into `pot`, with the keywords `make extract` uses."""
    argv = ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_", "-k", "ngettext:1,2"]
    CommandLineInterface().run([*argv, "--no-location", "-o", str(pot), str(ROOT / "src")])
    with pot.open("rb") as file:
        return read_po(file)


# A saved look of a format and one of a pack, as their buttons show them.
SAMPLE_LOOKS = (Look("oak", "4:5", 2, 0), Look("wall", "1:1", 3, 40, pack="amazon"))


def every_keyboard() -> list[InlineKeyboardMarkup]:
    """Each keyboard the bot shows, with every choice ticked once."""
    backdrops, models = Gallery(BACKDROPS, render_gallery), model_gallery()
    markups = [
        keyboards.gallery(backdrops.items(page), page, backdrops.pages, chosen=item.key)
        for page in range(backdrops.pages)
        for _, item in backdrops.items(page)
    ]
    markups += [
        keyboards.gallery(models.items(page), page, models.pages, ModelPicked, ModelPage, item.key)
        for page in range(models.pages)
        for _, item in models.items(page)
    ]
    markups += [keyboards.options(item.key, count, detail=True) for item in RATIOS for count in VARIANT_CHOICES]
    markups += [keyboards.options("1:1", count, ratios=False) for count in VARIANT_CHOICES]
    markups += [
        keyboards.candidates(count, chosen) for count in (2, 5, 12) for chosen in ([], list(range(1, count + 1)))
    ]
    markups += [keyboards.tasks(), keyboards.confirm(), keyboards.results("job"), keyboards.retry("job")]
    markups += [keyboards.options("1:1", 2, packs=True, chosen_pack=chosen) for chosen in (None, "amazon")]
    markups += [keyboards.packs(list(packs().values()), chosen) for chosen in (None, "ozon")]
    markups += [
        keyboards.results("job", save=True),
        keyboards.tasks(SAMPLE_LOOKS),
        keyboards.gallery(backdrops.items(0), 0, backdrops.pages, looks=SAMPLE_LOOKS),
    ]
    markups += [
        keyboards.changes(["product", "backdrop", "options", "detail", "model"], model_task)
        for model_task in (False, True)
    ]
    markups += [keyboards.queued("job"), keyboards.started("job"), keyboards.forget("token")]
    return markups + [keyboards.languages(list(LANGUAGES), current) for current in LANGUAGES]
