"""The real bot over HTTP against the stand-in, a real worker process, a real Redis: every state of the conversation."""

import asyncio
import io

import numpy as np
import pytest
from PIL import Image

from shopshot.bot.callbacks import BackdropPicked, ChangePicked, GalleryPage, OptionPicked, ResultAction, Step
from shopshot.config import Settings
from shopshot.pipeline.gallery import sample_photo
from shopshot.pipeline.intake import load_image, stored_copy
from shopshot.pipeline.presets import LOOK_CYCLE
from shopshot.pipeline.studio import RenderRequest, StudioBackend
from shopshot.playground.scripted import (
    Choices,
    buttons,
    choose_options,
    newer_than,
    play_conversation,
    reach_summary,
    with_button,
)
from shopshot.queue.store import blob_name, open_store
from tests.pipeline.conftest import assert_product_kept

USER = 501


def _photo_messages(messages: list[dict], kind: str) -> list[dict]:
    return [message for message in messages if message["kind"] == kind]


async def _start_and_send_photo(api, user: int = USER) -> dict:
    await api.send_text(user, "/start")
    await api.wait_for(user, newer_than(0))
    await api.send_photo(user, sample_photo())
    return await api.wait_for(user, with_button("bd:"))


async def test_whole_conversation_delivers_the_album(bot, worker, api, tmp_path):
    transcript = await play_conversation(
        api.base_url, USER, sample_photo(), tmp_path / "out", Choices(preset="studio", ratio="3:4", variants=2)
    )
    messages = await api.messages(USER)
    welcome, (kept, gallery) = messages[0], [m for m in messages if m["kind"] == "photo"][:2]
    assert "shopshot" in welcome["text"] and "/language" in welcome["text"]
    assert kept["caption"].startswith("This is what I'll keep")
    assert gallery["caption"].startswith("Choose a backdrop") and gallery["width"] > 600
    summary = next(m for m in messages if (m["text"] or "").startswith("Ready to make"))
    assert "3:4 (catalog, 1500×2000 px)" in summary["text"] and "2 images" in summary["text"]
    album = [m for m in _photo_messages(messages, "photo") if m["media_group_id"]]
    files = _photo_messages(messages, "document")
    assert len(album) == 2 and len({m["media_group_id"] for m in album}) == 1
    assert len(files) == 2 and all(m["file_name"].endswith(".png") for m in files)
    final = messages[-1]
    assert "Here are your 2 images." in final["text"]
    assert {b["callback_data"].split(":")[1] for b in buttons(final)} == {"backdrop", "variations", "new", "save"}
    assert len(transcript.images) >= 2 and (tmp_path / "out" / "conversation.md").exists()


async def test_a_finished_job_ends_in_one_done_message_which_carries_the_result_buttons(bot, worker, api, tmp_path):
    await play_conversation(
        api.base_url, USER, sample_photo(), tmp_path / "out", Choices(preset="studio", ratio="1:1", variants=2)
    )
    messages = await api.messages(USER)
    summary = next(index for index, m in enumerate(messages) if (m["text"] or "").startswith("Ready to make"))
    # After the summary: the album and its files, then one message saying it is done, with the buttons.
    said = [m for m in messages[summary + 1 :] if m["kind"] == "text"]
    assert len(said) == 1 and said[0] is messages[-1] and "Here are your 2 images." in said[0]["text"]
    assert {b["callback_data"].split(":")[1] for b in buttons(said[0])} == {"backdrop", "variations", "new", "save"}
    assert len(messages[summary + 1 : -1]) == 4 and all(
        m["kind"] in ("photo", "document") for m in messages[summary + 1 : -1]
    )


def _sample_jpeg(long_side: int) -> bytes:
    """The bundled mug photo (1200×1500) resized to this longest side, as a JPEG."""
    photo = Image.open(io.BytesIO(sample_photo()))
    buffer = io.BytesIO()
    photo.resize((long_side * 4 // 5, long_side), Image.Resampling.LANCZOS).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


@pytest.mark.parametrize("as_file", [False, True], ids=["photo-enlarged", "file-own-pixels"])
async def test_delivered_files_keep_the_product_pixels_and_reproduce_from_the_seed(bot, worker, api, as_file):
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0))
    if as_file:  # 2400×3000: the product's own pixels fill the 4:5 target, so they go on at scale 1
        await api.send_document(USER, _sample_jpeg(3000), "mug.jpg", mime_type="image/jpeg")
    else:
        await api.send_photo(USER, sample_photo())
    summary = await reach_summary(api, USER, Choices(preset="white", ratio="4:5", variants=1))
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    await api.wait_for(USER, with_button("rs:"), timeout=60)
    sent_by_seller = next(
        m for m in await api.history(USER) if not m["from_bot"] and m["kind"] in ("photo", "document")
    )
    received = await api.download(
        sent_by_seller["file_id"]
    )  # what the bot got: Telegram's compressed photo, or the file
    document = next(m for m in await api.messages(USER) if m["kind"] == "document")
    delivered = Image.open(io.BytesIO(await api.download(document["file_id"])))
    seed = int(document["caption"].removeprefix("Seed: "))  # the file's details: the seed that makes it again
    # The worker renders the copy the bot stored (re-encoded, as stored_copy makes it the same way each time).
    image = load_image(stored_copy(received, Settings().limits), Settings().limits)
    [local] = StudioBackend().run(RenderRequest(image=image, preset="white", ratio="4:5", variants=1, seed=seed))
    assert np.array_equal(np.asarray(delivered.convert("RGB")), np.asarray(local.image))
    assert (
        abs(delivered.width / delivered.height - 4 / 5) < 0.005 and delivered.width >= 1080 and delivered.height >= 1350
    )
    assert (local.scale == 1) == as_file
    assert_product_kept(local, image)


async def test_the_summary_shows_the_output_size_and_warns_when_the_photo_is_too_small(bot, api):
    small, large = USER, USER + 1
    for user in (small, large):
        await api.send_text(user, "/start")
        await api.wait_for(user, newer_than(0))
    await api.send_photo(small, _sample_jpeg(800))  # Telegram keeps it at 800 px
    await api.send_document(large, _sample_jpeg(3000), "mug.jpg", mime_type="image/jpeg")
    warned = (await reach_summary(api, small, Choices(preset="white", ratio="1:1", variants=1)))["text"]
    assert "• Format: 1:1 (marketplace, 2000×2000 px)" in warned
    assert "⚠️ Your photo is only 640×800 px" in warned and "send the original as a file" in warned
    plain = (await reach_summary(api, large, Choices(preset="white", ratio="1:1", variants=1)))["text"]
    assert "• Format: 1:1 (marketplace, 2000×2000 px or more)" in plain and "⚠️" not in plain


async def test_unreadable_file_is_answered_and_nothing_is_queued(bot, worker, api, redis):
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0))
    await api.send_document(USER, b"\x00garbage" * 100, "photo.jpg", mime_type="image/jpeg")
    reply = await api.wait_for(USER, newer_than(1))
    assert "couldn't read that file" in reply[-1]["text"]
    assert redis.llen("rq:queue:studio") == 0 and not redis.keys("rq:job:*")


async def test_text_and_stickers_where_a_photo_is_expected_get_a_hint(bot, api):
    await api.send_text(USER, "hello")
    reply = await api.wait_for(USER, newer_than(0))
    assert "send a photo" in reply[-1]["text"]
    await api.send_message_fields(
        USER,
        {
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "u1",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        },
    )
    reply = await api.wait_for(USER, newer_than(1))
    assert "send a photo" in reply[-1]["text"]


async def test_cancel_mid_flow_then_old_buttons_do_nothing(bot, api):
    gallery = await _start_and_send_photo(api)
    labels = [button["text"] for button in buttons(gallery)]
    assert [label.split(" · ")[0] for label in labels[:6]] == ["1", "2", "3", "4", "5", "6"]
    assert "1/2" in labels and "Cancel" in labels
    await api.send_text(USER, "/cancel")
    reply = await api.wait_for(USER, lambda ms: ms if "Cancelled" in (ms[-1]["text"] or "") else None)
    count = len(reply)
    await api.press(USER, gallery["message_id"], data=BackdropPicked(key="white").pack())
    answers = await _wait_answers(api, 1)
    assert "no longer active" in answers[-1]["text"]
    assert len(await api.messages(USER)) == count


async def _wait_answers(api, count: int, user: int = USER) -> list[dict]:
    for _ in range(100):
        answers = await api.callback_answers(user)
        if len(answers) >= count:
            return answers
        await asyncio.sleep(0.05)
    raise TimeoutError("no callback answer")


async def test_double_tap_on_confirm_queues_one_job(bot, worker, api, tmp_path):
    await _start_and_send_photo(api)
    summary = await reach_summary(api, USER, Choices(preset="studio"))
    confirm = Step(action="confirm").pack()
    await api.press(USER, summary["message_id"], data=confirm)
    await api.press(USER, summary["message_id"], data=confirm)  # the button is still there until the first edit lands
    final = await api.wait_for(USER, with_button("rs:"), timeout=60)
    messages = await api.messages(USER)
    assert sum(1 for m in messages if m["kind"] == "photo" and m["media_group_id"]) == 2
    assert sum(1 for m in messages if m["kind"] == "document") == 2
    assert "Here are your 2 images." in final["text"]


async def test_a_job_that_fails_reaches_the_seller_with_a_retry_button(bot, worker, api, redis, settings):
    await _start_and_send_photo(api)
    # A photo with no product is refused as it arrives; swap one in behind the bot's back so the worker meets it.
    blank = io.BytesIO()
    Image.new("RGB", (800, 800), (200, 200, 200)).save(blank, "PNG")
    [photo_key] = [key for key in redis.keys("shopshot:blob:*") if b":gallery-" not in key]
    open_store(redis, settings).blobs.write(blob_name(photo_key.decode()), blank.getvalue())
    summary = await reach_summary(api, USER, Choices(preset="white", variants=1))
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    failure = await api.wait_for(USER, with_button("rs:retry"), timeout=60)
    assert "couldn't find a product" in failure["text"]


async def test_bot_restart_between_choosing_and_confirming_resumes(bot, worker, api):
    await _start_and_send_photo(api)
    summary = await reach_summary(api, USER, Choices(preset="wall"))
    await bot.stop()
    bot.start()
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    final = await api.wait_for(USER, with_button("rs:"), timeout=60)
    assert "Here are your 2 images." in final["text"]


async def test_another_backdrop_reuses_the_photo_and_someone_elses_job_is_refused(bot, worker, api, tmp_path):
    await play_conversation(
        api.base_url, USER, sample_photo(), tmp_path / "out", Choices(preset="white", ratio="1:1", variants=1)
    )
    final = (await api.messages(USER))[-1]
    job_id = ResultAction.unpack(buttons(final)[0]["callback_data"]).job_id
    await api.press(USER, final["message_id"], data=ResultAction(action="backdrop", job_id=job_id).pack())
    gallery = await api.wait_for(
        USER, lambda ms: ms[-1] if ms[-1]["kind"] == "photo" and with_button("bd:")(ms[-1:]) else None
    )
    assert gallery["message_id"] > final["message_id"]
    assert [b["text"] for b in buttons(gallery) if b["text"].startswith("✓")] == ["✓ 1 Pure white"]  # the one used
    stranger = USER + 1
    await api.send_text(stranger, "/start")
    welcome = (await api.wait_for(stranger, newer_than(0)))[0]
    await api.forge_callback(stranger, welcome["message_id"], ResultAction(action="variations", job_id=job_id).pack())
    answers = await _wait_answers(api, 1, stranger)
    assert "no longer active" in answers[-1]["text"] and await api.messages(stranger) == [welcome]
    summary = await reach_summary(
        api, USER, Choices(preset="mint", ratio="1:1", variants=1)
    )  # the same photo's size, again
    assert (
        "• Format: 1:1 (marketplace, 2000×2000 px)" in summary["text"]
        and "⚠️ Your photo is only 1024×1280 px" in summary["text"]
    )


def _seeds(messages: list[dict]) -> list[int]:
    """The seeds of the full-resolution files sent, from their captions ("Seed: N")."""
    return [int(m["caption"].removeprefix("Seed: ")) for m in messages if m["kind"] == "document"]


async def test_pure_white_offers_one_image_and_no_variations(bot, worker, api):
    gallery = await _start_and_send_photo(api)
    await api.press(USER, gallery["message_id"], data=BackdropPicked(key="white").pack())
    options = await api.wait_for(USER, with_button("op:"))
    counts = [b for b in buttons(options) if b["callback_data"].startswith("op:variants:")]
    assert [(b["text"], b["callback_data"]) for b in counts] == [
        ("✓ 1 image", OptionPicked(name="variants", value="1").pack())
    ]
    # Four of the same white image, asked for by a modified client, are one.
    await api.forge_callback(USER, options["message_id"], OptionPicked(name="variants", value="4").pack())
    await api.press(USER, options["message_id"], data=Step(action="continue").pack())
    summary = await api.wait_for(USER, with_button(Step(action="confirm").pack()))
    assert "1 image" in summary["text"] and "4 images" not in summary["text"]
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    final = await api.wait_for(USER, with_button("rs:"), timeout=60)
    assert "Here is your image." in final["text"]
    assert {b["callback_data"].split(":")[1] for b in buttons(final)} == {"backdrop", "new", "save"}
    job_id = ResultAction.unpack(buttons(final)[0]["callback_data"]).job_id
    count, answered = len(await api.messages(USER)), len(await api.callback_answers(USER))
    await api.forge_callback(USER, final["message_id"], ResultAction(action="variations", job_id=job_id).pack())
    answers = await _wait_answers(api, answered + 1)
    assert "no longer active" in answers[-1]["text"] and len(await api.messages(USER)) == count


async def test_variations_go_on_past_the_looks_already_sent(bot, worker, api, tmp_path):
    await play_conversation(
        api.base_url, USER, sample_photo(), tmp_path / "out", Choices(preset="studio", ratio="1:1", variants=2)
    )
    first = await api.messages(USER)
    seeds = _seeds(first)
    assert len(seeds) == 2 and seeds[0] % LOOK_CYCLE == 0 and seeds[1] == seeds[0] + 1  # the gallery's look first
    final = first[-1]
    job_id = ResultAction.unpack(buttons(final)[0]["callback_data"]).job_id
    await api.press(USER, final["message_id"], data=ResultAction(action="variations", job_id=job_id).pack())
    await api.wait_for(
        USER, lambda ms: ms[-1] if len(ms) > len(first) and with_button("rs:")(ms[-1:]) else None, timeout=60
    )
    assert _seeds((await api.messages(USER))[len(first) :]) == [seeds[0] + 2, seeds[0] + 3]


async def test_files_are_named_by_photo_backdrop_and_format_and_their_seed_is_only_in_their_captions(bot, worker, api):
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0))
    await api.send_document(USER, sample_photo(), "Café mug (2).JPG", mime_type="image/jpeg")
    summary = await reach_summary(api, USER, Choices(preset="wall", ratio="4:5", variants=2))
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    await api.wait_for(USER, with_button("rs:"), timeout=60)
    messages = await api.messages(USER)
    files = [m for m in messages if m["kind"] == "document"]
    assert [m["file_name"] for m in files] == ["Cafe-mug-2-wall-4x5-1.png", "Cafe-mug-2-wall-4x5-2.png"]
    seeds = [m["caption"].removeprefix("Seed: ") for m in files]
    assert all(seed.isdigit() for seed in seeds) and len(set(seeds)) == 2
    shown = [m["text"] or m["caption"] or "" for m in messages if m["kind"] != "document"]
    assert not [text for text in shown if "seed" in text.lower() or any(seed in text for seed in seeds)]


async def test_change_format_keeps_the_backdrop_and_returns_to_the_summary(bot, api):
    await _start_and_send_photo(api)
    summary = await reach_summary(api, USER, Choices(preset="wall", ratio="1:1", variants=1))
    await api.press(USER, summary["message_id"], data=Step(action="change").pack())
    choice = await api.wait_for(USER, with_button("cg:"))
    assert choice["text"] == "What would you like to change?"
    assert [ChangePicked.unpack(b["callback_data"]).part for b in buttons(choice)] == ["backdrop", "options", "back"]
    await api.press(USER, choice["message_id"], data=ChangePicked(part="options").pack())
    options = await api.wait_for(USER, with_button("op:"))
    assert {b["text"] for b in buttons(options) if b["text"].startswith("✓")} == {"✓ 1:1 marketplace", "✓ 1 image"}
    answered = len(await api.callback_answers(USER))
    await api.press(USER, options["message_id"], data=OptionPicked(name="variants", value="1").pack())  # ticked already
    await _wait_answers(api, answered + 1)
    await choose_options(api, USER, Choices(ratio="4:5", variants=1), "en")
    again = await api.wait_for(
        USER,
        lambda ms: (
            ms[-1]
            if (ms[-1]["text"] or "").startswith("Ready to make") and with_button("st:confirm")(ms[-1:])
            else None
        ),
    )
    assert "Wall and floor" in again["text"] and "4:5" in again["text"] and "1 image" in again["text"]
    assert not [call for call in await api.calls() if not call["ok"]]  # the tap on the ticked option edited nothing
    assert not any(
        m["kind"] == "photo" and m["message_id"] > summary["message_id"] for m in await api.messages(USER)
    )  # no gallery again


async def test_change_backdrop_shows_the_chosen_one_ticked_and_keeps_the_format(bot, api):
    await _start_and_send_photo(api)
    gallery = await api.wait_for(USER, with_button("bd:"))
    await api.press(USER, gallery["message_id"], data=GalleryPage(page=1).pack())
    await api.wait_for(USER, with_button("bd:podium"))
    summary = await reach_summary(api, USER, Choices(preset="podium", ratio="4:5", variants=4))
    await api.press(USER, summary["message_id"], data=Step(action="change").pack())
    choice = await api.wait_for(USER, with_button("cg:"))
    await api.press(USER, choice["message_id"], data=ChangePicked(part="backdrop").pack())
    gallery = await api.wait_for(
        USER, lambda ms: ms[-1] if ms[-1]["message_id"] > choice["message_id"] and with_button("bd:")(ms[-1:]) else None
    )
    assert [b["text"] for b in buttons(gallery) if b["text"].startswith("✓")] == ["✓ 7 Podium"]  # opened at its page
    await api.press(USER, gallery["message_id"], data=BackdropPicked(key="linen").pack())
    again = await api.wait_for(USER, with_button("st:confirm"))
    assert again["message_id"] > gallery["message_id"]
    assert "Linen" in again["text"] and "4:5" in again["text"] and "4 images" in again["text"]
    await api.press(USER, again["message_id"], data=Step(action="change").pack())
    await api.wait_for(
        USER, lambda ms: ms if with_button("cg:")([m for m in ms if m["message_id"] == again["message_id"]]) else None
    )
    await api.press(USER, again["message_id"], data=ChangePicked(part="back").pack())
    back = await api.wait_for(
        USER,
        lambda ms: next(
            (m for m in ms if m["message_id"] == again["message_id"] and with_button("st:confirm")([m])), None
        ),
    )
    assert back["text"] == again["text"]


async def test_gallery_pages_are_turned_in_place(bot, api):
    gallery = await _start_and_send_photo(api)
    await api.press(USER, gallery["message_id"], data=GalleryPage(page=1).pack())
    turned = await api.wait_for(
        USER, lambda ms: next((m for m in ms if m["message_id"] == gallery["message_id"] and m["edits"] == 1), None)
    )
    assert turned["caption"] == gallery["caption"] and turned["file_id"] != gallery["file_id"]
    assert [b["text"].split(" · ")[0] for b in buttons(turned)][:4] == ["7", "8", "9", "10"]
    await api.press(USER, gallery["message_id"], data=GalleryPage(page=1).pack())  # "2/2", the page shown
    await _wait_answers(api, 2)
    await api.press(USER, gallery["message_id"], data=GalleryPage(page=0).pack())
    await api.wait_for(USER, lambda ms: any(m["message_id"] == gallery["message_id"] and m["edits"] == 2 for m in ms))
    # The pages came in one message, after the picture of what the cut-out keeps.
    kept, shown = [m for m in await api.messages(USER) if m["kind"] == "photo"]
    assert kept["caption"].startswith("This is what I'll keep") and shown["message_id"] == gallery["message_id"]
    calls = await api.calls()
    assert [c["ok"] for c in calls if c["method"] == "editMessageMedia"] == [True, True]
    assert [c["method"] for c in calls].count("sendPhoto") == 2 and "deleteMessage" not in [c["method"] for c in calls]
    assert not [call for call in calls if not call["ok"]]  # "2/2", the page shown, edited nothing


async def test_help_gives_photo_advice(bot, api):
    await api.send_text(USER, "/help")
    [reply] = await api.wait_for(USER, newer_than(0))
    assert all(
        advice in reply["text"]
        for advice in ("one product", "plain background", "good light", "most of the frame", "as a file")
    )
