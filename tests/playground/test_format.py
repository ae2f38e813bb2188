"""Telegram's HTML: plain text, entities in UTF-16 offsets, trimmed whitespace, exact refusals."""

import pytest

from shopshot.playground._format import parse, user_text
from shopshot.playground._state import BotApiError


def test_entities_count_utf16_code_units():
    parsed = parse("📦 <b>Mug</b> <a href='https://x.test'>link</a>", "HTML", None)

    assert parsed.text == "📦 Mug link"
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 3},
        {"type": "text_link", "offset": 7, "length": 4, "url": "https://x.test"},
    ]


def test_nested_tags_and_pre_with_language():
    parsed = parse('<b>a<i>b</i></b><pre><code class="language-python">x = 1</code></pre>', "html", None)

    assert parsed.text == "abx = 1"
    assert [(e["type"], e["offset"], e["length"]) for e in parsed.entities] == [
        ("bold", 0, 2),
        ("italic", 1, 1),
        ("pre", 2, 5),
    ]
    assert parsed.entities[2]["language"] == "python"


def test_character_references_and_trimming():
    parsed = parse("  <b>&lt;3 &#33;</b>\n", "HTML", None)

    assert parsed.text == "<3 !" and parsed.entities == [{"type": "bold", "offset": 0, "length": 4}]


def test_only_four_named_references_are_decoded_and_the_semicolon_is_optional():
    assert parse("&ge;&lt&gt;&amp;&quot;&#12345678;", "HTML", None).text == '&ge;<>&"&#12345678;'


def test_short_end_tags_and_attribute_forms():
    parsed = parse("<i a = 'x' b=token c>one</><b>two</>", "HTML", None)

    assert [(e["type"], e["offset"], e["length"]) for e in parsed.entities] == [("italic", 0, 3), ("bold", 3, 3)]


def test_empty_tags_make_no_entity_and_blockquotes_may_expand():
    parsed = parse("<b></b><blockquote expandable>q</blockquote>", "HTML", None)

    assert parsed.entities == [{"type": "expandable_blockquote", "offset": 0, "length": 1}]


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("é<x>", 'Unsupported start tag "x" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<i>a</i   ", "Unclosed end tag at byte offset 4"),
        ("<i>a</em   >", 'Unmatched end tag at byte offset 4, expected "</i>", found "</em>"'),
        ("<i   =x>", 'Empty attribute name in the tag "i" at byte offset 0'),
        ("<i a = 1,>", "Unexpected end of name token at byte offset 8"),
        ("<i a='x>", "Unclosed start tag at byte offset 0"),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_malformed_html_is_refused_with_telegrams_words(html, detail):
    with pytest.raises(BotApiError) as raised:
        parse(html, "HTML", None)

    assert raised.value.description == f"Bad Request: can't parse entities: {detail}"


def test_plain_text_keeps_explicit_entities():
    given = [{"type": "bold", "offset": 0, "length": 2}]

    assert parse("hi there", None, given).entities == given


def test_user_commands_are_found_anywhere():
    found = user_text("/start and /help@shopshot_local_bot").entities

    assert [(e["offset"], e["length"]) for e in found] == [(0, 6), (11, 24)]
