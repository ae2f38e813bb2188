"""The gettext catalogs: every language complete for the current source, placeholder-safe, with CLDR's
plural rules, accepted by GNU msgfmt and loadable by aiogram."""

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
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from tests.languages import DOMAIN, LANGUAGES, TELEGRAM_CODES, compile_catalogs, extract_template, po_path

# Integers the plural checks look at: enough for every CLDR rule of our languages to show all its forms.
COUNTS = range(1000)
# Unicode isolate openers (LRI, RLI, FSI) and their closer (PDI).
ISOLATES, PDI = "\u2066\u2067\u2068", "\u2069"


def load(path: Path) -> Catalog:
    """Read a .po or .pot file."""
    with path.open("rb") as file:
        return read_po(file)


def forms(message: Message) -> tuple[str, ...]:
    """Every msgstr of an entry: one, or one per plural form."""
    return tuple(message.string) if message.pluralizable else (message.string,)


def counts_of_form(catalog: Catalog, form: int) -> set[int]:
    """The integers (in COUNTS) for which gettext picks plural form `form` of this catalog."""
    pick = gettext.c2py(catalog.plural_expr)
    return {n for n in COUNTS if pick(n) == form}


def sources(catalog: Catalog, message: Message) -> list[str]:
    """The source text each msgstr form stands for: msgid for a form used only when n == 1, else msgid_plural."""
    if not message.pluralizable:
        return [message.id]
    singular, plural = message.id
    return [singular if counts_of_form(catalog, form) == {1} else plural for form in range(catalog.num_plurals)]


def translated_forms(catalog: Catalog) -> list[tuple[str, str, bool]]:
    """(source text, translation, stands for one number only) for every filled-in msgstr form."""
    triples = []
    for message in catalog:
        if not message.id:
            continue
        single = [
            len(counts_of_form(catalog, form)) == 1 if message.pluralizable else False
            for form in range(len(forms(message)))
        ]
        triples += [
            (source, text, one) for source, text, one in zip(sources(catalog, message), forms(message), single) if text
        ]
    return triples


def placeholders(text: str) -> set[str]:
    """The names of the `{fields}` str.format fills in."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<malformed braces>"}


def keepsakes(text: str) -> set[str]:
    """What a translation must carry over: emoji and other symbols, /commands, and arrows (which may
    point the other way in right-to-left text, so any arrow stands for any other)."""
    arrows = {"→" for char in text if "ARROW" in unicodedata.name(char, "")}
    symbols = {
        char for char in text if unicodedata.category(char) == "So" and "ARROW" not in unicodedata.name(char, "")
    }
    return symbols | arrows | set(re.findall(r"/[a-z_]+", text))


def cldr_partition(language: str) -> set[frozenset[int]]:
    """COUNTS grouped by the CLDR plural category Babel's locale data gives each of them."""
    rule = Locale.parse(language).plural_form
    groups: dict[str, set[int]] = {}
    for n in COUNTS:
        groups.setdefault(rule(n), set()).add(n)
    return {frozenset(group) for group in groups.values()}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Catalog:
    """A template extracted from the source now."""
    return extract_template(tmp_path_factory.mktemp("template") / f"{DOMAIN}.pot")


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


def test_every_language_of_the_product_has_a_catalog():
    assert set(TELEGRAM_CODES) <= set(LANGUAGES)


def test_translations_keep_the_source_placeholders(catalog):
    # A plural form used for one number only (English "one", Arabic "two") may spell the number out.
    problems = [
        (source, text)
        for source, text, one_number in translated_forms(catalog)
        if placeholders(text) != placeholders(source)
        and not (one_number and placeholders(text) <= placeholders(source))
    ]
    assert problems == []


def test_translations_keep_emoji_arrows_and_commands(catalog):
    problems = [(source, text) for source, text, _ in translated_forms(catalog) if keepsakes(text) != keepsakes(source)]
    assert problems == []


def test_plural_forms_follow_the_languages_cldr_rules(catalog):
    gettext_partition = {frozenset(counts_of_form(catalog, form)) for form in range(catalog.num_plurals)}
    assert catalog.num_plurals == len(cldr_partition(str(catalog.locale)))
    assert gettext_partition == cldr_partition(str(catalog.locale))


def test_plural_entries_are_really_translated_per_form(catalog):
    plural_entries = [forms(message) for message in catalog if message.id and message.pluralizable]
    assert plural_entries and all(len(entry) == catalog.num_plurals for entry in plural_entries)
    if catalog.num_plurals > 1:
        assert any(len(set(entry)) > 1 for entry in plural_entries), "every plural entry repeats one text in all forms"


def test_bidi_isolates_are_closed(catalog):
    problems = []
    for _, text, _ in translated_forms(catalog):
        depth = 0
        for char in text:
            depth += (char in ISOLATES) - (char == PDI)
            if depth < 0:
                break
        if depth != 0:
            problems.append(text)
    assert problems == []


def test_english_catalog_repeats_the_source():
    catalog = load(po_path("en"))
    problems = [message.id for message in catalog if message.id and list(forms(message)) != sources(catalog, message)]
    assert problems == []


def test_compiled_catalogs_serve_every_language_through_aiogram(tmp_path):
    i18n = I18n(path=compile_catalogs(tmp_path), domain=DOMAIN)
    assert sorted(i18n.available_locales) == sorted(LANGUAGES)
    assert i18n.gettext("Cancel", locale="zh_Hans") == "取消"
    assert i18n.gettext("{count} image", "{count} images", 4, locale="zh_Hans") == "{count} 张"
    assert i18n.gettext("{count} image", "{count} images", 4, locale="en") == "{count} images"
    assert [i18n.gettext("{count} image", "{count} images", n, locale="ru") for n in (1, 3, 5, 21)] == [
        "{count} снимок",
        "{count} снимка",
        "{count} снимков",
        "{count} снимок",
    ]
    assert i18n.gettext("{count} image", "{count} images", 2, locale="ar") == "صورتان"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU msgfmt is not installed (Debian package gettext)")
@pytest.mark.parametrize("language", LANGUAGES)
def test_gnu_msgfmt_accepts_catalog(language):
    command = ["msgfmt", "--check-format", "-c", "-o", os.devnull, str(po_path(language))]
    # msgfmt may quote half of a multi-byte character in its messages.
    result = subprocess.run(command, capture_output=True, encoding="utf-8", errors="replace", check=False)
    assert result.returncode == 0, result.stderr


# Each catalog speaks to the seller in one register: usted, vous, Sie, você, вы, siz, Anda, आप, 您, the
# Korean 해요체 and the Vietnamese tôi/bạn. Words only the other register uses give a stray string away.
# Arabic and Thai have no such pair in these texts; English has none at all.
OTHER_REGISTER_WORDS = {
    # Pronouns, and verb forms no first or third person shares ("je peux", "ich sende", "usted elige" are fine).
    "es": {
        "tú",
        "tu",
        "tus",
        "te",
        "ti",
        "contigo",
        "puedes",
        "podrás",
        "quieres",
        "tienes",
        "envíala",
        "envíame",
        "inténtalo",
    },
    "fr": {"tu", "toi", "te", "ta", "tes", "tien", "tienne"},
    "de": {"du", "dich", "dir", "dein", "deine", "deinen", "deinem", "deiner", "deines", "kannst", "willst", "schreib"},
    "pt_BR": {"tu", "ti", "teu", "tua", "teus", "tuas", "contigo"},
    "ru": {
        "ты",
        "тебя",
        "тебе",
        "тобой",
        "твой",
        "твоя",
        "твоё",
        "твое",
        "твои",
        "твоего",
        "твоих",
        "отправь",
        "попробуй",
        "выбери",
        "напиши",
        "подожди",
    },
    "tr": {"sen", "seni", "sana", "senin", "sende", "senden"},
    "id": {"kamu", "kau", "engkau", "aku"},
    "vi": {"mình", "cậu", "mày", "tao"},
    "hi": {"तुम", "तुम्हारा", "तुम्हारी", "तुम्हारे", "तुम्हें", "तू", "तेरा", "तेरी", "तेरे", "भेजो", "करो", "चुनो", "लिखो"},
}
# Where words are not spaced apart: the informal pronoun, or sentence endings of the other register.
OTHER_REGISTER_MARKS = {
    "zh_Hans": "你",
    "zh_Hant": "你",
    "ko": r"니다(?!\w)",  # 합니다체, in a catalog written in 해요체
    "ja": r"(?:だ|だよ|だね|してね|じゃない)(?=[。！？!?]|$)",  # plain form, in a catalog written in です/ます
}
WORD = re.compile(r"[\w\u0900-\u097F]+")  # Devanagari's vowel signs are not \w, so its block joins in


@pytest.mark.parametrize("language", sorted(OTHER_REGISTER_WORDS.keys() | OTHER_REGISTER_MARKS.keys()))
def test_each_catalog_keeps_to_one_register(language):
    words, marks = OTHER_REGISTER_WORDS.get(language, set()), OTHER_REGISTER_MARKS.get(language)
    strays = []
    for message in load(po_path(language)):
        for text in forms(message) if message.id else ():
            found = words & set(WORD.findall(text.lower())) | (set(re.findall(marks, text)) if marks else set())
            if found:
                strays.append((text, sorted(found)))
    assert strays == []
