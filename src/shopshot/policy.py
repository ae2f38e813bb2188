"""The content policy for a seller's words: a detail line asking for nudity or sex is refused.

The word lists are data (`policy_words.toml`, a table per shipped language). Entries and lines are
brought to one form before they are compared, so that case, width, accents, look-alike letters,
leetspeak digits and separators do not hide a listed word, while a listed word inside a longer
ordinary one ("Sussex", "Scunthorpe") is not a match.
"""

import logging
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

from shopshot.config import PolicySettings
from shopshot.errors import DetailRefused

log = logging.getLogger(__name__)

# Scripts whose accents only decorate a word for matching; in others (Devanagari, Thai) marks spell it.
_STRIPPED_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC", "ARABIC")
# Letters with no decomposition into base and accent; the dotless i also undoes Turkish "I".casefold().
_FOLDED = str.maketrans({"ı": "i", "đ": "d", "ł": "l", "ø": "o", "ħ": "h"})
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"})
_TATWEEL = "\u0640"  # Arabic's stretching stroke: a separator that looks like part of the word
# Cyrillic letters drawn like Latin ones: a word that mixes the two scripts is read in each.
_CYRILLIC, _LATIN = "аеорсхуіјѕкмтвн", "aeopcxyijskmtbh"
_TO_LATIN, _TO_CYRILLIC = str.maketrans(_CYRILLIC, _LATIN), str.maketrans(_LATIN, _CYRILLIC)


@dataclass(frozen=True)
class WordList:
    """Listed entries in normalised form, all matched against lines normalised the same way."""

    strip_accents: bool
    words: frozenset[str]
    phrases: tuple[tuple[str, ...], ...]
    fragments: tuple[str, ...]

    def found_in(self, text: str) -> str | None:
        """The first entry the text holds, or None."""
        for tokens in readings(text, self.strip_accents):
            for index, token in enumerate(tokens):
                if token in self.words:
                    return token
                if hit := next((fragment for fragment in self.fragments if fragment in token), None):
                    return hit
                if hit := next((" ".join(p) for p in self.phrases if tuple(tokens[index : index + len(p)]) == p), None):
                    return hit
        return None


def refused_entry(text: str) -> str | None:
    """The listed word, phrase or fragment (normalised) a line holds, in any shipped language; None for none."""
    return next((hit for words in word_lists() if (hit := words.found_in(text)) is not None), None)


def check_detail_content(detail: str, policy: PolicySettings) -> None:
    """Raise DetailRefused when the policy checks detail lines and this one asks for nudity or sex."""
    if not policy.check_details:
        return
    entry = refused_entry(detail)
    if entry is not None:
        log.info("detail line refused by the content policy (listed: %r)", entry)
        raise DetailRefused()


@cache  # the packaged lists never change while a process runs
def word_lists() -> tuple[WordList, ...]:
    """The packaged lists, merged into one per way of treating accents."""
    tables = tomllib.loads(resources.files(__package__).joinpath("policy_words.toml").read_text(encoding="utf-8"))
    by_accents: dict[bool, list[dict]] = {True: [], False: []}
    for language, table in tables.items():
        accents = table.get("accents", "strip")
        if accents not in ("strip", "keep"):
            raise ValueError(f"policy_words.toml [{language}]: accents is 'strip' or 'keep', not {accents!r}")
        by_accents[accents == "strip"].append(table)
    return tuple(_compiled(strip, group) for strip, group in by_accents.items() if group)


def _compiled(strip_accents: bool, tables: list[dict]) -> WordList:
    def one(entry: str) -> str:
        return " ".join(tokens(entry, strip_accents))

    return WordList(
        strip_accents,
        frozenset(one(entry) for table in tables for entry in table["words"]),
        tuple(tuple(tokens(entry, strip_accents)) for table in tables for entry in table["phrases"]),
        tuple(one(entry) for table in tables for entry in table["fragments"]),
    )


def normalise(text: str, strip_accents: bool = True) -> str:
    """NFKC, case folded, and (where the script allows) without accents."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if not strip_accents:
        return folded
    decomposed = unicodedata.normalize("NFD", folded)
    kept, base = [], ""
    for char in decomposed:
        if unicodedata.category(char) != "Mn":
            base = unicodedata.name(char, "")
        elif base.startswith(_STRIPPED_SCRIPTS):
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept)).translate(_FOLDED)


def tokens(text: str, strip_accents: bool = True) -> list[str]:
    """The words of a line, normalised, with separators inside a word dropped and spelled-out letters joined."""
    return _spelled_out_joined([word for chunk in normalise(text, strip_accents).split() if (word := _letters(chunk))])


def readings(text: str, strip_accents: bool = True) -> Iterator[list[str]]:
    """The ways of reading a line as words: separators inside a word dropped ("n.u.d.e") or splitting words
    ("nude-woman"), and each word that mixes Latin and Cyrillic read in both scripts."""
    normal = normalise(text, strip_accents)
    split = " ".join(
        "".join(char if _is_letter(char) or char.isdigit() else " " for char in chunk) for chunk in normal.split()
    )
    for reading in (tokens(text, strip_accents), tokens(split, strip_accents)):
        yield reading
        if any(_mixed(token) for token in reading):
            yield [token.translate(_TO_LATIN) if _mixed(token) else token for token in reading]
            yield [token.translate(_TO_CYRILLIC) if _mixed(token) else token for token in reading]


def _letters(chunk: str) -> str:
    # Leetspeak only where it stands for letters: in a word with letters, or one character spelled out.
    if len(chunk) == 1 or any(char.isalpha() for char in chunk):
        chunk = chunk.translate(_LEET)
    return "".join(char for char in chunk if _is_letter(char))


def _is_letter(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM" and char != _TATWEEL


def _spelled_out_joined(words: list[str]) -> list[str]:
    """Runs of single letters ("n u d e") read as one word."""
    joined: list[str] = []
    in_run = False
    for word in words:
        if len(word) == 1 and in_run:
            joined[-1] += word
        else:
            joined.append(word)
            in_run = len(word) == 1
    return joined


def _mixed(token: str) -> bool:
    names = {unicodedata.name(char, "").split(" ")[0] for char in token}
    return "LATIN" in names and "CYRILLIC" in names
