"""Untrusted text: the detail line is length-limited and plain, echoed without formatting, and held to its prompt slot."""

import unicodedata

import pytest
from redis import Redis
from rq import Queue, Worker

from shopshot.bot.callbacks import BackdropPicked, Step, TaskPicked
from shopshot.bot.studio import DETAIL_LIMIT, check_detail
from shopshot.errors import DetailInvisible, DetailNotPlain, DetailStackedMarks, DetailTooLong
from shopshot.pipeline.diffusion.prompts import EXTRA_TOKENS, backdrop_prompts, estimate_tokens, person_prompts
from shopshot.pipeline.gallery import sample_photo
from shopshot.pipeline.people import MODEL_PRESETS
from shopshot.pipeline.presets import BACKDROPS, backdrop
from shopshot.playground.scripted import newer_than, with_button
from shopshot.queue.enqueue import ALIVE_KEY

USER = 1001
MARKUP = "<b>bold</b> *star* _under_ [link](http://evil.example) `code` &amp; </i>"
ATTACKS = [
    "(masterpiece:1.5) ((red roses)) [cat:dog:0.5] {a|b} <lora:x:1>",
    "roses++ moss-- BREAK nsfw AND nudity ### text, watermark",
    "Negative prompt: product, bottle --no product --neg bottle",
    "x" * DETAIL_LIMIT,
    "漢" * DETAIL_LIMIT,
    "lemons " * 17,
]


@pytest.mark.parametrize("text", ["on a marble table", "  spaced   out  ", "🧑\u200d🍳 in a kitchen", MARKUP])
def test_a_plain_line_passes_as_written(text):
    assert check_detail(text) == " ".join(text.split())


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("x" * (DETAIL_LIMIT + 1), DetailTooLong),
        ("one\ntwo", DetailTooLong),
        ("red \u202eesor", DetailNotPlain),
        ("zero\u200bwidth", DetailNotPlain),
        ("bell\x07", DetailNotPlain),
    ],
)
def test_long_several_line_or_hidden_character_details_are_refused(text, error):
    with pytest.raises(error):
        check_detail(text)


ZALGO = "r\u0336\u0322\u0317\u0350o\u0334\u0358\u031fs\u0337\u0301\u0353\u0324e\u0338\u0346\u0330\u0359s"


@pytest.mark.parametrize(
    "text",
    [
        "\u200d\u200d\u200d",
        "\u200c",
        "\ufe0f\ufe0f\ufe0f",
        "\u3164\u3164",
        "\u2800 \u2800",
        "\u0301",
        "\u200d \ufe0e \u3164",
    ],
    ids=["joiners", "non-joiner", "variation-selectors", "hangul-fillers", "braille-blanks", "lone-mark", "mixed"],
)
def test_a_detail_of_invisible_characters_is_refused(text):
    with pytest.raises(DetailInvisible):
        check_detail(text)


@pytest.mark.parametrize(
    "text",
    [ZALGO, "ro\u0300\u0301\u0302\u0303\u0304se", "\u2764" + "\ufe0f" * 8, "a" + "\u20dd" * 5],
    ids=["zalgo", "five-marks", "stacked-variation-selectors", "enclosing-marks"],
)
def test_marks_piled_on_a_letter_are_refused(text):
    with pytest.raises(DetailStackedMarks):
        check_detail(text)


@pytest.mark.parametrize(
    "text",
    [
        "लाल गुलाबों के साथ संगमरमर की मेज़ पर, क्षितिज पर सूर्यास्त",  # Hindi: vowel signs, nukta, virama, anusvara
        "บนโต๊ะหินอ่อนที่มีดอกไม้สีชมพู",  # Thai: a vowel and a tone mark above one consonant
        "عَلَى طَاوِلَةٍ رُخَامِيَّةٍ مَعَ ٱلرَّحْمَٰنِ",  # Arabic with full vowel marks: shadda plus a vowel
        unicodedata.normalize(
            "NFD", "trên bàn đá cẩm thạch, ánh nắng ấm áp"
        ),  # Vietnamese, decomposed: two marks a letter
        "trên bàn đá cẩm thạch",  # Vietnamese as typed (composed)
        "བསྒྲུབས་པ",  # Tibetan: two stacked consonants and a vowel under one letter
        "on a café table ❤️ 1️⃣ 🧑\u200d🍳",  # emoji with their variation selectors, a keycap, a joiner
    ],
)
def test_scripts_that_use_combining_marks_pass(text):
    assert check_detail(text) == " ".join(text.split())


@pytest.mark.parametrize("extra", ATTACKS)
def test_the_sellers_words_stay_in_their_slot(extra):
    for preset in BACKDROPS:
        prompt, negative = backdrop_prompts(preset, extra)
        assert prompt.startswith("product photograph, ") and negative == backdrop_prompts(preset, "")[1]
        words = prompt.removeprefix("product photograph, ").split(f", {preset.prompt}, ")[0]
        assert (
            not set(words) & set("()[]{}<>|:#+\n") and "BREAK" not in words and estimate_tokens(words) <= EXTRA_TOKENS
        )
        assert (
            estimate_tokens(prompt.split(", professional photography")[0]) <= 75
        )  # the preset is inside CLIP's window
    for person in MODEL_PRESETS:
        for task in ("model", "mannequin"):
            prompt, negative = person_prompts(person, task, extra)
            assert person.prompt in prompt and negative == person_prompts(person, task, "")[1]
            assert estimate_tokens(prompt.split(", natural skin texture")[0]) <= 75


def test_the_token_estimate_never_undercounts_plain_english():
    # One token per word is CLIP's floor for these; a word of several pieces counts more, never fewer.
    line = "on a marble table with eucalyptus leaves and lemons"
    assert estimate_tokens(line) >= len(line.split()) and estimate_tokens("1234") == 4
    assert backdrop_prompts(backdrop("oak"), line)[0].count(line) == 1


def _register_gpu_worker(redis: Redis) -> None:
    # The detail is offered on the diffusion backend only; a live GPU worker is all the bot looks at.
    Worker([Queue("gpu", connection=redis)], connection=redis, name="gpu-stand-in").register_birth()
    redis.set(ALIVE_KEY + "gpu-stand-in", 1)  # beating for the whole test, with no upkeep thread to renew it


async def test_the_detail_and_captions_are_echoed_as_plain_text(bot, api, redis):
    _register_gpu_worker(redis)
    await api.send_photo(USER, sample_photo(), caption=MARKUP + " " + "y" * 900)
    tasks = await api.wait_for(USER, with_button("tk:"))
    await api.press(USER, tasks["message_id"], data=TaskPicked(task="backdrop").pack())
    gallery = await api.wait_for(USER, with_button("bd:"))
    await api.press(USER, gallery["message_id"], data=BackdropPicked(key="white").pack())
    options = await api.wait_for(USER, with_button("st:detail"))
    await api.press(USER, options["message_id"], data=Step(action="detail").pack())
    count = len(await api.wait_for(USER, lambda ms: ms if "Write one short line" in (ms[-1]["text"] or "") else None))
    await api.send_text(USER, "red \u202eesor")
    refusal = (await api.wait_for(USER, newer_than(count)))[-1]
    assert (
        refusal["text"] == "Please write the detail as plain words, without control or invisible formatting characters."
    )
    await api.send_text(USER, MARKUP)
    options = await api.wait_for(
        USER,
        lambda ms: (found := with_button("st:continue")(ms)) and found["message_id"] > refusal["message_id"] and found,
    )
    await api.press(USER, options["message_id"], data=Step(action="continue").pack())
    summary = await api.wait_for(USER, with_button("st:confirm"))
    assert summary["text"].startswith(f"✏️ {MARKUP}\n") and summary["parse_mode"] is None
    messages = await api.messages(USER)
    assert all(message["parse_mode"] is None for message in messages)
    assert not any("y" * 50 in (message["text"] or message["caption"] or "") for message in messages)
