"""The seller picks the product: a photo of two separate products is shown with both outlined and
numbered, the seller keeps one (or both), and only what they kept reaches the gallery and the results."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from shopshot.bot import keyboards, texts
from shopshot.bot.callbacks import ChangePicked, LanguagePicked, ProductPicked, ResultAction, Step
from shopshot.pipeline.candidates_sheet import COLOURS
from shopshot.playground.scripted import Choices, buttons, choose_products, newer_than, reach_summary, with_button
from shopshot.queue.enqueue import ACTIVE_KEY
from shopshot.queue.spec import JobSpec
from tests.bot.test_conversation import _wait_answers
from tests.conftest import until

pytestmark = pytest.mark.usefixtures("fresh_catalogs")  # the new strings, whatever `make catalogs` last built
USER = 541
RED, BLUE = (200, 40, 40), (30, 70, 190)


def two_products() -> bytes:
    """A red disc left and a blue box right, apart on a plain light backdrop, as a PNG."""
    photo = Image.new("RGB", (960, 720), (236, 234, 230))
    draw = ImageDraw.Draw(photo)
    draw.ellipse((110, 210, 390, 520), fill=RED)
    draw.rounded_rectangle((560, 180, 840, 560), radius=30, fill=BLUE)
    buffer = io.BytesIO()
    photo.save(buffer, "PNG")
    return buffer.getvalue()


def share_of(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> float:
    """The share of an image's pixels within `tolerance` of `colour` on every channel."""
    return float((np.abs(pixels[..., :3].astype(int) - colour) <= tolerance).all(axis=-1).mean())


async def _picture(api, message: dict) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(await api.download(message["file_id"]))).convert("RGB"))


async def _send_two_products(api) -> dict:
    await api.send_text(USER, "/start")
    await api.wait_for(USER, newer_than(0))
    await api.send_document(USER, two_products(), "pair.png", mime_type="image/png")
    return await api.wait_for(USER, with_button(f"{ProductPicked.__prefix__}:"))


def _variation_delivered(messages: list[dict]) -> dict | None:
    """The second result document, once its delivery has ended with the message of result buttons (the chat is still)."""
    documents = [m for m in messages if m["kind"] == "document"]
    if len(documents) < 2:
        return None
    after = [m for m in messages if m["message_id"] > documents[1]["message_id"]]
    return documents[1] if with_button("rs:")(after) else None


def _kept_after(messages: list[dict], after: dict) -> dict:
    return next(
        m
        for m in messages
        if m["message_id"] > after["message_id"] and (m["caption"] or "").startswith("This is what I'll keep")
    )


async def test_the_seller_keeps_the_second_product_and_only_it_is_rendered(bot, worker, api):
    offer = await _send_two_products(api)
    assert offer["kind"] == "photo" and offer["caption"].startswith("I see more than one product")
    assert [b["text"] for b in buttons(offer)] == ["1", "2", "All together", "Continue ➜", "Cancel"]
    sheet = await _picture(api, offer)
    assert share_of(sheet, COLOURS[0], 10) > 0.005 and share_of(sheet, COLOURS[1], 10) > 0.005  # two outlines
    assert share_of(sheet, COLOURS[2], 10) == 0  # and no third
    assert not [
        m for m in await api.messages(USER) if m["kind"] == "photo" and m["message_id"] != offer["message_id"]
    ]  # no gallery yet
    await api.press(USER, offer["message_id"], data=ProductPicked(action="continue").pack())  # nothing chosen yet
    [alert] = await _wait_answers(api, 1, USER)
    assert alert["show_alert"] and alert["text"] == "Tap the number of at least one product first."
    await choose_products(api, USER, [2])
    ticked = next(m for m in await api.messages(USER) if m["message_id"] == offer["message_id"])
    assert [b["text"] for b in buttons(ticked)][:2] == ["1", "✓ 2"]
    gallery = await api.wait_for(USER, with_button("bd:"))
    kept = await _picture(api, _kept_after(await api.messages(USER), offer))
    assert share_of(kept, BLUE) > 0.05 and share_of(kept, RED) == 0
    assert share_of(await _picture(api, gallery), RED) == 0 and share_of(await _picture(api, gallery), BLUE) > 0.01
    summary = await reach_summary(api, USER, Choices(preset="studio", ratio="4:5", variants=1))
    # The Change step keeps the choice: a backdrop changed, the same product.
    await api.press(USER, summary["message_id"], data=Step(action="change").pack())
    change = await api.wait_for(USER, with_button(f"{ChangePicked.__prefix__}:"))
    await api.press(USER, change["message_id"], data=ChangePicked(part="backdrop").pack())
    again = await api.wait_for(
        USER, lambda ms: ms[-1] if ms[-1]["message_id"] > change["message_id"] and with_button("bd:")(ms[-1:]) else None
    )
    await api.press(USER, again["message_id"], data="bd:wall")
    summary = await api.wait_for(
        USER, lambda ms: ms[-1] if with_button("st:confirm")(ms[-1:]) and "Wall" in ms[-1]["text"] else None
    )
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    final = await api.wait_for(USER, with_button("rs:"), timeout=60)
    [document] = [m for m in await api.messages(USER) if m["kind"] == "document"]
    delivered = await _picture(api, document)
    assert share_of(delivered, BLUE) > 0.02 and share_of(delivered, RED) == 0
    # Variations render the same choice again.
    job_id = ResultAction.unpack(buttons(final)[0]["callback_data"]).job_id
    await api.press(USER, final["message_id"], data=ResultAction(action="variations", job_id=job_id).pack())
    variation = await api.wait_for(USER, _variation_delivered, timeout=60)
    assert share_of(await _picture(api, variation), RED) == 0
    # The old picture's buttons (taken off it; a client that kept them) no longer act.
    assert not buttons(next(m for m in await api.messages(USER) if m["message_id"] == offer["message_id"]))
    count, answered = len(await api.messages(USER)), len(await api.callback_answers(USER))
    await api.forge_callback(USER, offer["message_id"], ProductPicked(action="toggle", number=1).pack())
    answers = await _wait_answers(api, answered + 1, USER)
    assert answers[-1]["text"] == "This button is no longer active." and len(await api.messages(USER)) == count


async def test_all_together_keeps_both_then_the_summary_changes_the_products_kept(bot, api, redis):
    offer = await _send_two_products(api)
    await api.press(USER, offer["message_id"], data=ProductPicked(action="toggle", number=1).pack(), inaccessible=True)
    ticked = await api.wait_for(
        USER, lambda ms: next((m for m in ms if m["message_id"] > offer["message_id"] and buttons(m)), None)
    )
    assert ticked["kind"] == "photo" and [b["text"] for b in buttons(ticked)][:2] == [
        "✓ 1",
        "2",
    ]  # out of sight: a new picture
    await api.press(USER, ticked["message_id"], data=ProductPicked(action="all").pack())
    await api.wait_for(USER, with_button("bd:"))
    kept = await _picture(api, _kept_after(await api.messages(USER), ticked))
    assert share_of(kept, BLUE) > 0.02 and share_of(kept, RED) > 0.02
    summary = await reach_summary(api, USER, Choices(preset="wall", ratio="1:1", variants=1))
    await api.press(USER, summary["message_id"], data=Step(action="change").pack())
    change = await api.wait_for(USER, with_button(f"{ChangePicked.__prefix__}:"))
    assert [ChangePicked.unpack(b["callback_data"]).part for b in buttons(change)] == [
        "product",
        "backdrop",
        "options",
        "back",
    ]
    await api.press(USER, change["message_id"], data=ChangePicked(part="product").pack())
    again = await api.wait_for(
        USER,
        lambda ms: next((m for m in ms if m["message_id"] > change["message_id"] and with_button("pr:")([m])), None),
    )
    assert [b["text"] for b in buttons(again)][:2] == ["✓ 1", "✓ 2"]  # all together, as chosen
    await _tick(api, again, 1)
    await api.press(USER, again["message_id"], data=ProductPicked(action="continue").pack())
    summary = await api.wait_for(
        USER,
        lambda ms: (
            ms[-1] if ms[-1]["message_id"] > again["message_id"] and with_button("st:confirm")(ms[-1:]) else None
        ),
    )
    assert "Wall and floor" in summary["text"] and "1:1" in summary["text"]  # back to the summary, the rest kept
    kept = await _picture(api, _kept_after(await api.messages(USER), again))
    assert share_of(kept, BLUE) > 0.02 and share_of(kept, RED) == 0
    await api.press(USER, summary["message_id"], data=Step(action="confirm").pack())
    # No worker runs here: the job waits in the queue, carrying the box of the product kept.
    [spec] = await until(lambda: list(redis.hgetall(ACTIVE_KEY).values()), what="the queued job")
    [box] = JobSpec.from_json(spec).keep
    assert 0.5 < box[0] < box[2] <= 1 and 0 <= box[1] < box[3] <= 1  # the right-hand product's


async def test_switching_language_during_the_choice_shows_the_picture_again_with_the_ticks_kept(bot, api, catalogs):
    offer = await _send_two_products(api)
    await _tick(api, offer, 2)
    await api.send_text(USER, "/language")
    menu = await api.wait_for(USER, with_button(f"{LanguagePicked.__prefix__}:"))
    await api.press(USER, menu["message_id"], data=LanguagePicked(code="de").pack())
    again = await api.wait_for(
        USER, lambda ms: next((m for m in ms if m["message_id"] > menu["message_id"] and with_button("pr:")([m])), None)
    )
    with catalogs.context(), catalogs.use_locale("de"):
        expected = (
            texts.candidates_prompt(),
            [button.text for row in keyboards.candidates(2, [2]).inline_keyboard for button in row],
        )
    assert again["kind"] == "photo" and (again["caption"], [b["text"] for b in buttons(again)]) == expected


async def _tick(api, offer: dict, number: int) -> None:
    """Tick one candidate on the picture and wait for the tick to show."""
    await api.press(USER, offer["message_id"], data=ProductPicked(action="toggle", number=number).pack())
    await api.wait_for(USER, lambda ms: any(m["message_id"] == offer["message_id"] and m["edits"] for m in ms))
