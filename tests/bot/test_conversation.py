"""The real bot over HTTP against the stand-in, a real worker process, a real Redis: every state of the conversation."""

import asyncio
import io

import numpy as np
import pytest
from PIL import Image

from shopshot.bot.callbacks import BackdropPicked, ResultAction, Step
from shopshot.config import Settings
from shopshot.pipeline.intake import load_image
from shopshot.pipeline.studio import RenderRequest, StudioBackend
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, buttons, newer_than, play_conversation, reach_summary, with_button
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
    transcript = await play_conversation(api.base_url, USER, sample_photo(), tmp_path / "out", Choices(preset="studio", ratio="3:4", variants=2))
    messages = await api.messages(USER)
    welcome, gallery = messages[0], next(m for m in messages if m["kind"] == "photo")
    assert "shopshot" in welcome["text"] and "/language" in welcome["text"]
    assert gallery["caption"].startswith("Choose a backdrop") and gallery["width"] > 600
    summary = next(m for m in messages if (m["text"] or "").startswith("Ready to make"))
    assert "3:4 (catalog, 1500×2000 px)" in summary["text"] and "2 images" in summary["text"]
    album = [m for m in _photo_messages(messages, "photo") if m["media_group_id"]]
    files = _photo_messages(messages, "document")
    assert len(album) == 2 and len({m["media_group_id"] for m in album}) == 1
    assert len(files) == 2 and all(m["file_name"].endswith(".png") for m in files)
    final = messages[-1]
    assert "Here are your 2 images." in final["text"]
    assert {b["callback_data"].split(":")[1] for b in buttons(final)} == {"backdrop", "variations", "new"}
    assert len(transcript.images) >= 2 and (tmp_path / "out" / "conversation.md").exists()


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
    sent_by_seller = next(m for m in await api.history(USER) if not m["from_bot"] and m["kind"] in ("photo", "document"))
    received = await api.download(sent_by_seller["file_id"])  # what the bot got: Telegram's compressed photo, or the file
    document = next(m for m in await api.messages(USER) if m["kind"] == "document")
    delivered = Image.open(io.BytesIO(await api.download(document["file_id"])))
    seed = int(document["file_name"].split("-")[1].split(".")[0])
    image = load_image(received, Settings().limits)
    [local] = StudioBackend().run(RenderRequest(image=image, preset="white", ratio="4:5", variants=1, seed=seed))
    assert np.array_equal(np.asarray(delivered.convert("RGB")), np.asarray(local.image))
    assert abs(delivered.width / delivered.height - 4 / 5) < 0.005 and delivered.width >= 1080 and delivered.height >= 1350
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
    await api.send_message_fields(USER, {"sticker": {"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}})
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
    summary = await reach_summary(api, USER, Choices(preset="white"))
    confirm = Step(action="confirm").pack()
    await api.press(USER, summary["message_id"], data=confirm)
    await api.press(USER, summary["message_id"], data=confirm)  # the button is still there until the first edit lands
    final = await api.wait_for(USER, with_button("rs:"), timeout=60)
    messages = await api.messages(USER)
    assert sum(1 for m in messages if m["kind"] == "photo" and m["media_group_id"]) == 2
    assert sum(1 for m in messages if m["kind"] == "document") == 2
    assert "Here are your 2 images." in final["text"]


async def test_a_job_that_fails_reaches_the_seller_with_a_retry_button(bot, worker, api):
    blank = io.BytesIO()
    Image.new("RGB", (800, 800), (200, 200, 200)).save(blank, "PNG")
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0))
    await api.send_document(USER, blank.getvalue(), "blank.png", mime_type="image/png")
    summary = await reach_summary(api, USER, Choices(preset="white"))
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
    await play_conversation(api.base_url, USER, sample_photo(), tmp_path / "out", Choices(preset="white", ratio="1:1", variants=1))
    final = (await api.messages(USER))[-1]
    job_id = ResultAction.unpack(buttons(final)[0]["callback_data"]).job_id
    await api.press(USER, final["message_id"], data=ResultAction(action="backdrop", job_id=job_id).pack())
    gallery = await api.wait_for(USER, lambda ms: ms[-1] if ms[-1]["kind"] == "photo" and with_button("bd:")(ms[-1:]) else None)
    assert gallery["message_id"] > final["message_id"]
    stranger = USER + 1
    await api.send_text(stranger, "/start")
    welcome = (await api.wait_for(stranger, newer_than(0)))[0]
    await api.forge_callback(stranger, welcome["message_id"], ResultAction(action="variations", job_id=job_id).pack())
    answers = await _wait_answers(api, 1, stranger)
    assert "no longer active" in answers[-1]["text"] and await api.messages(stranger) == [welcome]
    summary = await reach_summary(api, USER, Choices(preset="mint", ratio="1:1", variants=1))  # the same photo's size, again
    assert "• Format: 1:1 (marketplace, 2000×2000 px)" in summary["text"] and "⚠️ Your photo is only 1024×1280 px" in summary["text"]
