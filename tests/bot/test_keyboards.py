"""Every inline keyboard, in every language, fits a phone: no button label is cut off."""

import unicodedata

import pytest
from aiogram.types import InlineKeyboardMarkup

from shopshot.bot.languages import native_name
from tests.languages import LANGUAGES, every_keyboard

# A 360-dp-wide phone shows a bot's inline keyboard about 320 dp wide. A label in Telegram's ~15 sp
# button font takes about 7.5 dp per Latin letter and twice that per CJK character or emoji, and each
# button keeps ~10 dp of padding a side: about 30 columns fit a button alone in its row, 18 when two
# share a row and 12 when three do. Longer labels are cut with an ellipsis.
BUDGET = {1: 30, 2: 18, 3: 12}


def columns(label: str) -> int:
    """A label's display width: wide and fullwidth characters (CJK, emoji) count 2, combining marks 0."""
    width = 0
    for char in label:
        if unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def too_wide(markup: InlineKeyboardMarkup) -> list[tuple[str, int, int]]:
    """(label, columns, budget) for every button wider than its row allows."""
    return [
        (button.text, columns(button.text), BUDGET.get(len(row), 8))
        for row in markup.inline_keyboard
        for button in row
        if columns(button.text) > BUDGET.get(len(row), 8)
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_button_label_fits_its_row(catalogs, language):
    with catalogs.context(), catalogs.use_locale(language):
        problems = [problem for markup in every_keyboard() for problem in too_wide(markup)]
    assert problems == []


def test_columns_count_wide_characters_twice_and_marks_not_at_all():
    assert columns("Cancel") == 6
    assert columns("取消") == 4
    assert columns("✅ OK") == 5
    assert columns("ผ้าลินิน") == 5  # three of the eight code points are marks above the letters


def test_language_names_are_distinct_and_native():
    names = [native_name(code) for code in LANGUAGES]
    assert len(set(names)) == len(names)
    assert {"English", "Deutsch", "Português", "中文 (简体)", "中文 (繁體)", "العربية", "हिन्दी"} <= set(names)
