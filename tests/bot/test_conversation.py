"""The real bot over HTTP against the stand-in, a real worker process, a real Redis: every state of the conversation."""

import asyncio
import io

import numpy as np
from PIL import Image

from shopshot.bot.callbacks import BackdropPicked, ResultAction, Step
from shopshot.config import Settings
from shopshot.pipeline.intake import load_image
from shopshot.pipeline.studio import RenderRequest, StudioBackend
from shopshot.pipeline.gallery import sample_photo
from shopshot.playground.scripted import Choices, buttons, newer_than, play_conversation, reach_summary, with_button

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
    welcome, (kept, gallery) = messages[0], [m for m in messages if m["kind"] == "photo"][:2]
    assert "shopshot" in welcome["text"] and "/language" in welcome["text"]
    assert kept["caption"].startswith("This is what I'll keep")
    assert gallery["caption"].startswith("Choose a backdrop") and gallery["width"] > 600
    summary = next(m for m in messages if (m["text"] or "").startswith("Ready to make"))
    assert "3:4 (catalog)" in summary["text"] and "2 images" in summary["text"]
    album = [m for m in _photo_messages(messages, "photo") if m["media_group_id"]]
    files = _photo_messages(messages, "document")
    assert len(album) == 2 and len({m["media_group_id"] for m in album}) == 1
    assert len(files) == 2 and all(m["file_name"].endswith(".png") for m in files)
    final = messages[-1]
    assert "Here are your 2 images." in final["text"]
    assert {b["callback_data"].split(":")[1] for b in buttons(final)} == {"backdrop", "variations", "new"}
    assert len(transcript.images) >= 2 and (tmp_path / "out" / "conversation.md").exists()


async def test_delivered_files_keep_the_product_pixels_and_reproduce_from_the_seed(bot, worker, api, tmp_path):
    await play_conversation(api.base_url, USER, sample_photo(), tmp_path / "out", Choices(preset="white", ratio="4:5", variants=1))
    history = await api.history(USER)
    sent_by_seller = next(m for m in history if not m["from_bot"] and m["kind"] == "photo")
    received = await api.download(sent_by_seller["file_id"])  # the compressed photo the bot got
    document = next(m for m in await api.messages(USER) if m["kind"] == "document")
    delivered = Image.open(io.BytesIO(await api.download(document["file_id"])))
    seed = int(document["file_name"].split("-")[1].split(".")[0])
    image = load_image(received, Settings().limits)
    [local] = StudioBackend().run(RenderRequest(image=image, preset="white", ratio="4:5", variants=1, seed=seed))
    assert np.array_equal(np.asarray(delivered.convert("RGB")), np.asarray(local.image))
    assert abs(delivered.width / delivered.height - 4 / 5) < 0.005
    _assert_protected_pixels_unchanged(image, local)


def _assert_protected_pixels_unchanged(source: Image.Image, rendered) -> None:
    protect = np.asarray(rendered.protect) == 255
    ys, xs = np.nonzero(protect)
    ox, oy = rendered.offset
    assert len(ys) > 1000
    out = np.asarray(rendered.image)[ys, xs]
    original = np.asarray(source)[ys - oy, xs - ox]
    assert np.array_equal(out, original)


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


async def test_a_job_that_fails_reaches_the_seller_with_a_retry_button(bot, worker, api, redis):
    await _start_and_send_photo(api)
    # A photo with no product is refused as it arrives; swap one in behind the bot's back so the worker meets it.
    blank = io.BytesIO()
    Image.new("RGB", (800, 800), (200, 200, 200)).save(blank, "PNG")
    [photo_key] = [key for key in redis.keys("shopshot:blob:*") if b":gallery-" not in key]
    redis.set(photo_key, blank.getvalue(), keepttl=True)
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
