"""The gettext catalogs: complete for the current source, placeholder-safe, and loadable by aiogram."""

import gettext
import os
import re
import shutil
import string
import subprocess
import unicodedata
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "src" / "shopshot" / "locales"
DOMAIN = "shopshot"
LANGUAGES = ("en", "zh_Hans")


def po_path(language: str) -> Path:
    """Where a language's catalog is kept."""
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load(path: Path) -> Catalog:
    """Read a .po or .pot file."""
    with path.open("rb") as file:
        return read_po(file)


def forms(message: Message) -> tuple[str, ...]:
    """Every msgstr of an entry: one, or one per plural form."""
    return tuple(message.string) if message.pluralizable else (message.string,)


def sources(catalog: Catalog, message: Message) -> list[str]:
    """The source text each msgstr form stands for: msgid for a form used only when n == 1, else msgid_plural."""
    if not message.pluralizable:
        return [message.id]
    singular, plural = message.id
    pick = gettext.c2py(catalog.plural_expr)
    return [singular if {n for n in range(200) if pick(n) == form} == {1} else plural for form in range(catalog.num_plurals)]


def translated_pairs(catalog: Catalog) -> list[tuple[str, str]]:
    """(source text, translation) for every filled-in msgstr form of a catalog."""
    return [
        (source, text)
        for message in catalog
        if message.id
        for source, text in zip(sources(catalog, message), forms(message))
        if text
    ]


def placeholders(text: str) -> set[str]:
    """The names of the `{fields}` str.format fills in."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<malformed braces>"}


def keepsakes(text: str) -> set[str]:
    """What a translation must carry over untouched: emoji and other symbols, and /commands."""
    return {char for char in text if unicodedata.category(char) == "So"} | set(re.findall(r"/[a-z_]+", text))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Catalog:
    """A template extracted from the source now, with the keywords `make extract` uses."""
    pot = tmp_path_factory.mktemp("template") / f"{DOMAIN}.pot"
    argv = ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_", "-k", "ngettext:1,2"]
    CommandLineInterface().run([*argv, "--no-location", "-o", str(pot), str(ROOT / "src")])
    return load(pot)


@pytest.fixture(params=LANGUAGES)
def catalog(request) -> Catalog:
    """Each language's catalog as committed."""
    return load(po_path(request.param))


def test_extraction_finds_strings_marked_every_way(template):
    assert template.get("Cancel") is not None  # gettext as _
    assert template.get("marketplace") is not None  # N_
    assert template.get("{count} image").pluralizable  # ngettext


def test_catalog_translates_every_extracted_string(catalog, template):
    problems = []
    for source in template:
        if not source.id:
            continue
        entry = catalog.get(source.id)
        if entry is None or entry.id != source.id:
            problems.append(("missing", source.id))
        elif entry.fuzzy:
            problems.append(("fuzzy", source.id))
        elif len(forms(entry)) != len(sources(catalog, source)) or not all(forms(entry)):
            problems.append(("untranslated", source.id))
    assert not catalog.fuzzy, "the header is marked fuzzy: pybabel compile would skip the whole catalog"
    assert problems == []


def test_translations_keep_the_source_placeholders(catalog):
    problems = [(source, text) for source, text in translated_pairs(catalog) if placeholders(text) != placeholders(source)]
    assert problems == []


def test_translations_keep_emoji_and_commands(catalog):
    problems = [(source, text) for source, text in translated_pairs(catalog) if keepsakes(text) != keepsakes(source)]
    assert problems == []


def test_english_catalog_repeats_the_source():
    catalog = load(po_path("en"))
    problems = [message.id for message in catalog if message.id and list(forms(message)) != sources(catalog, message)]
    assert problems == []


def test_compiled_catalogs_serve_chinese_through_aiogram(tmp_path):
    for language in LANGUAGES:
        mo = tmp_path / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
        mo.parent.mkdir(parents=True)
        with mo.open("wb") as file:
            write_mo(file, load(po_path(language)))
    i18n = I18n(path=tmp_path, domain=DOMAIN)
    assert sorted(i18n.available_locales) == sorted(LANGUAGES)
    assert i18n.gettext("Cancel", locale="zh_Hans") == "取消"
    assert i18n.gettext("{count} image", "{count} images", 4, locale="zh_Hans") == "{count} 张"
    assert i18n.gettext("{count} image", "{count} images", 4, locale="en") == "{count} images"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU msgfmt is not installed (Debian package gettext)")
@pytest.mark.parametrize("language", LANGUAGES)
def test_gnu_msgfmt_accepts_catalog(language):
    command = ["msgfmt", "--check-format", "-c", "-o", os.devnull, str(po_path(language))]
    # msgfmt may quote half of a multi-byte character in its messages.
    result = subprocess.run(command, capture_output=True, encoding="utf-8", errors="replace", check=False)
    assert result.returncode == 0, result.stderr
