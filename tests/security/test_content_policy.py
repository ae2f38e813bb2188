"""The content policy on detail lines: explicit requests are refused in every shipped language, however
they are spelled, with a localized message and nothing kept; ordinary product lines pass."""

import tomllib
from importlib import resources

import pytest
from aiogram.utils.i18n import I18n

from shopshot.bot import texts
from shopshot.bot.callbacks import BackdropPicked, Step, TaskPicked
from shopshot.config import PolicySettings
from shopshot.errors import DetailRefused
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import newer_than, with_button
from shopshot.policy import check_detail_content, refused_entry, tokens
from tests.languages import DOMAIN, LANGUAGES
from tests.security.test_untrusted_text import _register_gpu_worker

USER = 1101
POLICY = PolicySettings()
# An explicit detail line in each shipped language.
EXPLICIT = {
    "ar": "امرأة عارية على الشاطئ",
    "de": "nackte Frau am Strand",
    "en": "nude woman on a bed",
    "es": "mujer desnuda en la playa",
    "fr": "femme nue sur la plage",
    "hi": "बिस्तर पर नग्न महिला",
    "id": "wanita telanjang di pantai",
    "ja": "ビーチで全裸の女性",
    "ko": "해변의 알몸 여성",
    "pt_BR": "mulher nua na praia",
    "ru": "голая женщина на пляже",
    "th": "ผู้หญิงเปลือยกายบนชายหาด",
    "tr": "plajda çıplak kadın",
    "vi": "người phụ nữ khỏa thân trên bãi biển",
    "zh_Hans": "海滩上的裸体女人",
    "zh_Hant": "海灘上的裸體女人",
}
# The same requests spelled to slip past a plain word match.
DISGUISED = [
    "N U D E woman",
    "n.u.d.e w.o.m.a.n",
    "nud3 w0man",
    "ＮＵＤＥ ｗｏｍａｎ",
    "nude-woman",
    "p*o*r*n",
    "x x x",
    "s3x on the beach",
    "NAKED",
    "n\u0430ked",  # a Cyrillic а inside Latin letters
    "п\u006fрн\u006f",  # Latin o's inside a Cyrillic word
    "n̴̡u̷d̸e̵ w̷o̵m̸a̵n",
    "NACKTE Frau",
    "desnúda",
    "ÇIPLAK kadın",
    "ciplak kadin",
    "عـاريـة",
    "إباحي",
    "裸 体",
    "khoả thân",
]
# Ordinary product lines, several holding a listed word inside a longer innocent one.
ORDINARY = [
    "on a marble table",
    "Scunthorpe market stall",
    "Sussex countryside at dawn",
    "Essex",
    "a therapist's desk",
    "nude heels on a beige rug",
    "unisex hoodie on a hanger",
    "sextant on an old sea chart",
    "3 x 5 card on a desk",
    "auf einem Marmortisch",
    "eine Nacktschnecke auf einem Blatt",
    "sobre una mesa de mármol",
    "sexto aniversario",
    "sur une table en marbre",
    "un tapis à poil long",
    "une nuée d'oiseaux sur l'avenue",
    "sobre uma mesa de mármore",
    "на мраморном столе",
    "голубой фон",
    "голландский сыр",
    "mermer masada",
    "seksen yıllık ahşap masa",
    "di atas meja marmer",
    "loa thế hệ mới trên bàn gỗ",
    "trên bàn đá cẩm thạch",
    "على طاولة رخامية",
    "संगमरमर की मेज़ पर",
    "大理石のテーブル",
    "ヌードルのどんぶり",
    "イエローの背景",
    "裸色高跟鞋",
    "大理石桌面上",
    "เปลือกหอยบนชายหาด",
    "บนโต๊ะหินอ่อน",
    "대리석 테이블 위",
    "누드김밥 도시락",
    "하나 체크 무늬 셔츠",
]


def _word_tables() -> dict:
    return tomllib.loads(resources.files("shopshot").joinpath("policy_words.toml").read_text(encoding="utf-8"))


def test_the_word_lists_are_data_with_a_table_per_shipped_language():
    tables = _word_tables()
    assert sorted(tables) == sorted(LANGUAGES) and sorted(EXPLICIT) == sorted(LANGUAGES)
    for language, table in tables.items():
        assert table["words"] or table["phrases"] or table["fragments"], language
        for entry in table["words"] + table["fragments"]:
            assert len(tokens(entry, table.get("accents", "strip") == "strip")) == 1, (language, entry)


@pytest.mark.parametrize("language", sorted(_word_tables()))
def test_every_listed_entry_as_written_is_refused(language):
    table = _word_tables()[language]
    for entry in table["words"] + table["phrases"] + table["fragments"]:
        assert refused_entry(entry) is not None, entry
        assert refused_entry(f"on a table, {entry.upper()}, by the window") is not None, entry


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_explicit_line_is_refused_in_every_language(language):
    with pytest.raises(DetailRefused):
        check_detail_content(EXPLICIT[language], POLICY)


@pytest.mark.parametrize("text", DISGUISED)
def test_disguised_spellings_are_refused(text):
    with pytest.raises(DetailRefused):
        check_detail_content(text, POLICY)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_product_lines_pass(text):
    assert refused_entry(text) is None
    check_detail_content(text, POLICY)


def test_the_operator_can_switch_the_detail_check_off():
    check_detail_content(EXPLICIT["en"], PolicySettings(check_details=False))


def test_the_refusal_is_translated_in_every_catalog(compiled_locales):
    catalogs = I18n(path=compiled_locales, default_locale="en", domain=DOMAIN)
    with catalogs.context(), catalogs.use_locale("en"):
        english = texts.describe(DetailRefused, {})
    assert "nudity" in english
    for language in LANGUAGES:
        with catalogs.context(), catalogs.use_locale(language):
            shown = texts.describe(DetailRefused, {})
        assert language == "en" or shown != english, language


async def test_the_bot_refuses_an_explicit_detail_in_the_sellers_language_and_keeps_nothing(bot, api, redis):
    _register_gpu_worker(redis)
    await api.send_photo(USER, sample_photo(), language_code="de")
    tasks = await api.wait_for(USER, with_button("tk:"))
    await api.press(USER, tasks["message_id"], data=TaskPicked(task="backdrop").pack(), language_code="de")
    gallery = await api.wait_for(USER, with_button("bd:"))
    await api.press(USER, gallery["message_id"], data=BackdropPicked(key="white").pack(), language_code="de")
    options = await api.wait_for(USER, with_button("st:detail"))
    await api.press(USER, options["message_id"], data=Step(action="detail").pack(), language_code="de")
    count = len(await api.wait_for(USER, lambda ms: ms if ms[-1]["message_id"] > options["message_id"] else None))
    await api.send_text(USER, "N4CKTE Frau am Strand", language_code="de")
    refusal = (await api.wait_for(USER, newer_than(count)))[-1]
    assert refusal["text"].startswith("Dieses Detail kann ich nicht verwenden: Nacktheit")
    assert redis.llen("rq:queue:gpu") == 0
    await api.send_text(USER, "auf einem Marmortisch", language_code="de")
    options = await api.wait_for(
        USER,
        lambda ms: (found := with_button("st:continue")(ms)) and found["message_id"] > refusal["message_id"] and found,
    )
    await api.press(USER, options["message_id"], data=Step(action="continue").pack(), language_code="de")
    summary = await api.wait_for(USER, with_button("st:confirm"))
    assert summary["text"].startswith("✏️ auf einem Marmortisch\n") and "Strand" not in summary["text"]
    assert redis.llen("rq:queue:gpu") == 0
