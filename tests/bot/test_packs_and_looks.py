"""Marketplace packs and saved looks through the real bot, a real worker and the Bot API stand-in."""

import asyncio
import io
import re

import numpy as np
import pytest
from babel.numbers import format_decimal
from PIL import Image
from redis.asyncio import Redis as AsyncRedis

from shopshot.bot import texts
from shopshot.bot.callbacks import BackdropPicked, LookPicked, PackPicked, ResultAction, Step
from shopshot.bot.looks import LOOKS_KEY, MAX_LOOKS, Look, SavedLooks
from shopshot.bot.studio import JOBS_OF_KEY
from shopshot.pipeline.gallery import sample_photo
from shopshot.pipeline.intake import load_image, stored_copy
from shopshot.pipeline.packs import Finding, Verdict, check, pack, precheck, render_pack
from shopshot.playground.scripted import Choices, buttons, play_conversation, with_button
from tests.conftest import until
from tests.languages import LANGUAGES
from tests.security.conftest import waiting_jobs

USER = 521
pytestmark = pytest.mark.usefixtures("fresh_catalogs")  # the new strings, whatever `make catalogs` last built


def _jpeg(size: tuple[int, int]) -> bytes:
    """The bundled mug photo (1200×1500) resized, as a JPEG."""
    buffer = io.BytesIO()
    Image.open(io.BytesIO(sample_photo())).resize(size, Image.Resampling.LANCZOS).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


async def _at_options(api, user: int, photo: bytes, preset: str = "wall", language: str = "en") -> dict:
    """Send a photo as a file (its own pixels), choose a backdrop; return the options message."""
    await api.send_document(user, photo, "mug.jpg", mime_type="image/jpeg", language_code=language)
    gallery = await api.wait_for(user, with_button(f"{BackdropPicked.__prefix__}:"))
    await api.press(user, gallery["message_id"], data=BackdropPicked(key=preset).pack(), language_code=language)
    return await api.wait_for(user, with_button(Step(action="packs").pack()))


async def _open_packs(api, user: int, options: dict, language: str = "en") -> dict:
    """Tap the marketplace pack button; return the options message once it lists the packs."""
    await api.press(user, options["message_id"], data=Step(action="packs").pack(), language_code=language)
    return await api.wait_for(user, with_button(f"{PackPicked.__prefix__}:"))


async def test_a_pack_chosen_by_taps_arrives_with_each_images_verdict(bot, worker, api):
    photo = _jpeg((1200, 1500))
    listed = await _open_packs(api, USER, await _at_options(api, USER, photo))
    labels = {button["callback_data"]: button["text"] for button in buttons(listed)}
    # Marketplaces whose rules were not found are marked, never presented as checked.
    assert labels[PackPicked(key="amazon").pack()] == "Amazon" and labels[PackPicked(key="shopee").pack()] == "Shopee *"
    await api.press(USER, listed["message_id"], data=PackPicked(key="amazon").pack())
    summary = await api.wait_for(USER, with_button(Step(action="confirm").pack()))
    assert "Marketplace pack: Amazon pack" in summary["text"]
    assert (
        "Amazon main image: Pure white" in summary["text"]
        and summary["text"].count("Amazon additional image: Wall and floor") == 2
    )
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    final = await api.wait_for(USER, with_button(f"{ResultAction.__prefix__}:"), timeout=120)
    files = [message for message in await api.messages(USER) if message["kind"] == "document" and message["from_bot"]]
    assert [file["file_name"] for file in files] == [f"mug-amazon-{number}.png" for number in (1, 2, 3)]
    assert re.match(
        r"Amazon main image: 2000×2000, white 255, product \d+%, PNG, RGB ✓\nSeed: \d+$", files[0]["caption"]
    ), files[0]["caption"]
    assert all(
        re.match(r"Amazon additional image: 2000×2000, PNG, RGB ✓\nSeed: \d+$", file["caption"]) for file in files[1:]
    )
    lines = final["text"].split("\n")
    assert (
        "Checked against the marketplace's published rules:" in lines and sum(line.endswith("✓") for line in lines) == 3
    )
    # What arrived is what the pipeline makes of this photo at that seed, the free images on the seller's backdrop,
    # and it passes the marketplace's checker measured again here, on the file alone.
    seed = int(files[0]["caption"].rsplit("Seed: ", 1)[1])
    limits = bot.args[0].limits  # the worker renders the copy the bot stored, re-encoded the same way each time
    expected = render_pack(load_image(stored_copy(photo, limits), limits), pack("amazon"), seed, preset="wall")
    for file, made in zip(files, expected, strict=True):
        data = await api.download(file["file_id"])
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), np.asarray(made.image))
        assert check(data, made.verdict.rule).ok
    assert "save" in {ResultAction.unpack(button["callback_data"]).action for button in buttons(final)}


async def test_a_photo_too_small_for_a_pack_is_refused_before_queueing_in_the_sellers_language(
    bot, api, redis, catalogs
):
    small = (720, 900)  # under Amazon's 1000 px on the longest side, over eBay's 500
    listed = await _open_packs(api, USER, await _at_options(api, USER, _jpeg(small), language="de"), language="de")
    await api.press(USER, listed["message_id"], data=PackPicked(key="amazon").pack(), language_code="de")
    refusal = await api.wait_for(
        USER, lambda messages: messages[-1] if messages[-1]["message_id"] > listed["message_id"] else None
    )
    with catalogs.context(), catalogs.use_locale("de"):
        expected = texts.pack_refused(pack("amazon"), precheck(small, pack("amazon")))
    with catalogs.context(), catalogs.use_locale("en"):
        english = texts.pack_refused(pack("amazon"), precheck(small, pack("amazon")))
    assert refusal["text"] == expected != english and "720×900" in expected and "1.000" in expected
    assert not redis.exists(JOBS_OF_KEY + str(USER)) and waiting_jobs(redis) == []
    # Nothing is lost: the packs are still there, and another one (whose minimum the photo meets) goes on to its summary.
    await api.press(USER, listed["message_id"], data=PackPicked(key="ebay").pack(), language_code="de")
    summary = await api.wait_for(USER, with_button(Step(action="confirm").pack()))
    assert "eBay" in summary["text"]


async def _result_files(api, user: int, after: int) -> list[dict]:
    return [
        m for m in await api.messages(user) if m["kind"] == "document" and m["from_bot"] and m["message_id"] > after
    ]


async def test_a_saved_look_is_the_first_button_of_the_next_photo_and_makes_the_same_image(
    bot, worker, api, redis, tmp_path
):
    await play_conversation(
        api.base_url, USER, sample_photo(), tmp_path / "out", Choices(preset="mint", ratio="4:5", variants=1)
    )
    final = (await api.messages(USER))[-1]
    [first] = await _result_files(api, USER, 0)
    save = next(
        button["callback_data"]
        for button in buttons(final)
        if ResultAction.unpack(button["callback_data"]).action == "save"
    )
    await api.press(USER, final["message_id"], data=save)
    await until(lambda: redis.llen(LOOKS_KEY + str(USER)) == 1, what="the look saved")
    assert (await api.callback_answers(USER))[-1][
        "text"
    ] == "Saved. With your next photo, this look is the first button."
    await api.send_photo(USER, sample_photo())
    gallery = await api.wait_for(
        USER,
        lambda messages: with_button(f"{BackdropPicked.__prefix__}:")(
            [m for m in messages if m["message_id"] > final["message_id"]]
        ),
    )
    look = buttons(gallery)[0]
    assert look["callback_data"].startswith(f"{LookPicked.__prefix__}:") and look["text"] == "⭐ Mint · 4:5 · ×1"
    await api.press(USER, gallery["message_id"], data=look["callback_data"])
    summary = await api.wait_for(
        USER,
        lambda messages: with_button(Step(action="confirm").pack())(
            [m for m in messages if m["message_id"] > gallery["message_id"]]
        ),
    )
    assert "Mint" in summary["text"] and "4:5" in summary["text"]
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    await api.wait_for(
        USER,
        lambda messages: with_button(f"{ResultAction.__prefix__}:")(
            [m for m in messages if m["message_id"] > summary["message_id"]]
        ),
        timeout=120,
    )
    [again] = await _result_files(api, USER, summary["message_id"])
    assert again["caption"] == first["caption"]  # the same seed
    assert await api.download(again["file_id"]) == await api.download(first["file_id"])  # the same image, byte for byte


async def test_saved_looks_are_bounded_newest_first_and_a_look_saved_again_moves_to_the_front(redis_url):
    redis = AsyncRedis.from_url(redis_url)
    looks = SavedLooks(redis)
    made = [Look("oak", "1:1", 2, 40 * number) for number in range(MAX_LOOKS + 2)]
    for look in made:
        await looks.save(USER, look)
    assert await looks.of(USER) == made[::-1][:MAX_LOOKS]
    await looks.save(USER, made[-2])
    assert await looks.of(USER) == [made[-2], made[-1], made[-3]]
    await redis.lpush(
        LOOKS_KEY + str(USER), Look("no-such-backdrop", "1:1", 1, 0).to_json()
    )  # saved by an older version
    assert await looks.of(USER) == [made[-2], made[-1]]
    await redis.aclose()


def test_a_look_keeps_its_pack_and_seed_and_its_id_is_short_and_stable():
    look = Look("wall", "1:1", 3, 80, pack="amazon")
    again = Look.from_json(look.to_json())
    assert again == look and again.id == look.id and len(f"{LookPicked.__prefix__}:{look.id}") <= 64
    assert look.choices()["seed"] == 80 and look.choices()["pack"] == "amazon"
    assert Look("wall", "1:1", 3, 81, pack="amazon").id != look.id


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_verdict_reads_in_every_language_with_its_numbers_written_the_locales_way(catalogs, language):
    rule = pack("mercado-libre").shots[0].rule
    findings = (
        Finding(True, "size", {"size": "1200×1200"}),
        Finding(True, "file-size", {"size_mb": 1.5}),
        Finding(False, "fill-under", {"fill": 61, "minimum": 85}),
    )
    broken = Verdict(rule, (1200, 1200), findings).to_dict()
    unchecked = Verdict(pack("shopee").shots[0].rule, (900, 900), ()).to_dict()
    with catalogs.context(), catalogs.use_locale(language):
        lines = [texts.verdict_line(broken), texts.verdict_line(unchecked)]
    with catalogs.context(), catalogs.use_locale("en"):
        english = [texts.verdict_line(broken), texts.verdict_line(unchecked)]
    assert english == [
        "Mercado Libre image: product 61%, under the minimum of 85%, 1200×1200, 1.5 MB ✗",
        "Shopee image: 900×900, not checked: no published rule found",
    ]
    assert language == "en" or all(line != source for line, source in zip(lines, english))
    assert "1200×1200" in lines[0] and lines[0].endswith("✗") and "✓" not in lines[1] and "✗" not in lines[1]
    assert format_decimal(1.5, locale=language) in lines[0]  # "1,5" in German


def _newer(predicate, after: int):
    """A `wait_for` predicate looking only at the messages after `after`."""
    return lambda messages: predicate([m for m in messages if m["message_id"] > after])


async def test_a_saved_pack_look_refuses_a_photo_too_small_and_remakes_the_same_pack_from_the_same_photo(
    bot, worker, api, redis
):
    photo = _jpeg((1200, 1500))
    listed = await _open_packs(api, USER, await _at_options(api, USER, photo))
    await api.press(USER, listed["message_id"], data=PackPicked(key="lazada").pack())
    summary = await api.wait_for(USER, with_button(Step(action="confirm").pack()))
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    final = await api.wait_for(USER, with_button(f"{ResultAction.__prefix__}:"), timeout=120)
    [first] = await _result_files(api, USER, 0)
    await api.press(
        USER,
        final["message_id"],
        data=ResultAction(action="save", job_id=ResultAction.unpack(buttons(final)[0]["callback_data"]).job_id).pack(),
    )
    await until(lambda: redis.exists(LOOKS_KEY + str(USER)), what="the look saved")

    await api.send_document(
        USER, _jpeg((400, 500)), "small.jpg", mime_type="image/jpeg"
    )  # under Lazada's 500 px on the shortest side
    gallery = await api.wait_for(USER, _newer(with_button(f"{BackdropPicked.__prefix__}:"), final["message_id"]))
    look = buttons(gallery)[0]
    assert look["text"] == "⭐ Lazada · Wall and floor"
    await api.press(USER, gallery["message_id"], data=look["callback_data"])
    refusal = await api.wait_for(
        USER, lambda messages: messages[-1] if messages[-1]["message_id"] > gallery["message_id"] else None
    )
    assert "Lazada image: the photo is 400×500, under the 500 px minimum on the shortest side" in refusal["text"]
    assert redis.scard(JOBS_OF_KEY + str(USER)) == 1 and waiting_jobs(redis) == []

    await api.send_document(USER, photo, "mug.jpg", mime_type="image/jpeg")
    gallery = await api.wait_for(USER, _newer(with_button(f"{BackdropPicked.__prefix__}:"), refusal["message_id"]))
    await api.press(USER, gallery["message_id"], data=buttons(gallery)[0]["callback_data"])
    summary = await api.wait_for(USER, _newer(with_button(Step(action="confirm").pack()), gallery["message_id"]))
    assert "Marketplace pack: Lazada pack" in summary["text"]
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    await api.wait_for(USER, _newer(with_button(f"{ResultAction.__prefix__}:"), summary["message_id"]), timeout=120)
    [again] = await _result_files(api, USER, summary["message_id"])
    assert again["caption"] == first["caption"] and again["file_name"] == first["file_name"] == "mug-lazada-1.png"
    assert await api.download(again["file_id"]) == await api.download(first["file_id"])


async def test_pack_and_look_buttons_forged_or_out_of_their_step_do_nothing(bot, api, redis):
    options = await _at_options(api, USER, _jpeg((1200, 1500)))
    await api.forge_callback(
        USER, options["message_id"], LookPicked(id="0123456789ab").pack()
    )  # no look offered at this step
    await api.forge_callback(USER, options["message_id"], PackPicked(key="walmart").pack())  # no such pack
    assert await _inactive_answers(api, 2)
    assert (await api.messages(USER))[-1]["message_id"] == options["message_id"]  # nothing sent: no summary, no refusal
    await api.send_document(USER, _jpeg((1200, 1500)), "mug.jpg", mime_type="image/jpeg")
    gallery = await api.wait_for(USER, _newer(with_button(f"{BackdropPicked.__prefix__}:"), options["message_id"]))
    await api.forge_callback(
        USER, gallery["message_id"], LookPicked(id="0123456789ab").pack()
    )  # none saved: none offered
    assert await _inactive_answers(api, 3)
    assert (await api.messages(USER))[-1]["message_id"] == gallery["message_id"]  # no summary came of it
    assert not redis.exists(JOBS_OF_KEY + str(USER)) and waiting_jobs(redis) == []


async def _inactive_answers(api, count: int) -> bool:
    """True once the bot has answered `count` presses with the stale-button answer."""
    for _ in range(600):
        if (
            sum(answer["text"] == "This button is no longer active." for answer in await api.callback_answers(USER))
            >= count
        ):
            return True
        await asyncio.sleep(0.05)
    return False
