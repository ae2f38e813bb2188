"""Albums in, one batch out: the real bot over the stand-in, a real worker, a real Redis.

An album of ten, and a send of twelve that Telegram splits into an album of ten and one of two, each
become one batch: the steps asked once, one status message, the results as albums of at most ten
with their files, and a photo that fails (refused at intake, or failing in the worker) named by its
number without failing the others.
"""

import asyncio
import io

from PIL import Image
from rq.registry import StartedJobRegistry

from shopshot.bot.batch import BATCH_KEY
from shopshot.bot.callbacks import JobChoice, Step
from shopshot.launcher import worker_process
from shopshot.playground.scripted import newer_than, reach_summary, with_button
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.feeder import BACKLOG_KEY, Feeder
from tests.bot.batching import CHOICES, blank_photo, collected, product_photo
from tests.conftest import until
from tests.queue.backends import GATE_KEY
from tests.security.conftest import forget


async def send_batch(api, redis, user: int, albums: list[list[bytes]]) -> dict:
    """Send the albums one after the other, wait until the bot holds every photo, and go to the summary."""
    await api.send_text(user, "/start")
    await api.wait_for(
        user, newer_than(0)
    )  # answered first: a /start handled after a photo would begin again without it
    sent = [message_id for photos in albums for message_id in await api.send_album(user, photos)]
    await until(lambda: collected(redis, user) == len(sent), timeout_s=90, what="every photo in the batch")
    return await reach_summary(api, user, CHOICES) | {"sent": sent}


def results_of(messages: list[dict], after: int) -> tuple[list[list[dict]], list[dict], list[dict]]:
    """The album photos (by group, in order), the files and the texts the bot sent after message `after`."""
    later = [m for m in messages if m["message_id"] > after and m["from_bot"]]
    groups: dict[str, list[dict]] = {}
    for message in later:
        if message["kind"] == "photo":
            groups.setdefault(message["media_group_id"] or str(message["message_id"]), []).append(message)
    return (
        list(groups.values()),
        [m for m in later if m["kind"] == "document"],
        [m for m in later if m["kind"] == "text"],
    )


async def test_an_album_of_ten_is_one_batch_end_to_end(bot, worker, api, redis):
    user = 9101
    summary = await send_batch(api, redis, user, [[product_photo(n) for n in range(10)]])
    assert summary["text"].startswith("📚 A batch of 10 photos, every one made like this:")
    await api.press(user, summary["message_id"], data=Step(action="confirm").pack())
    # One status message for the whole batch, counting the photos done as they come (deleted at the end).
    counting = await api.wait_for(
        user, lambda ms: [m for m in ms if " of 10 photos done" in (m["text"] or "")], timeout=120
    )
    statuses = [
        m
        for m in await api.messages(user)
        if m["message_id"] > summary["message_id"] and (m["text"] or "").startswith(("⏳", "📚"))
    ]
    assert len(counting) == 1 and statuses == counting and "About " in counting[0]["text"]
    final = await api.wait_for(
        user, lambda ms: next((m for m in ms if (m["text"] or "").startswith("✅ Your batch")), None), timeout=240
    )

    albums, files, _ = results_of(await api.history(user), summary["message_id"])
    assert [len(album) for album in albums] == [10] and len({m["media_group_id"] for m in albums[0]}) == 1
    assert [m["file_name"] for m in files] == [f"{n:02d}-photo-studio-4x5-1.png" for n in range(1, 11)]
    assert final["text"] == "✅ Your batch is ready: 10 photos, 10 images. Full-resolution files are above."
    assert (
        len([call for call in await api.calls("deleteMessage") if call["chat_id"] == user]) == 1
    )  # the status, once done
    # One look for all: every image has the same seed, and the same backdrop far from the product.
    seeds = {m["caption"] for m in files}
    assert len(seeds) == 1
    corners = {Image.open(io.BytesIO(await api.download(m["file_id"]))).convert("RGB").getpixel((4, 4)) for m in files}
    assert len(corners) == 1


async def test_a_send_of_twelve_split_ten_and_two_is_one_batch_and_a_failing_photo_is_named(
    bot, worker, api, redis, settings
):
    user = 9102
    photos = [product_photo(n) for n in range(12)]
    photos[2] = blank_photo()  # photo 3: no product, refused as it arrives
    summary = await send_batch(api, redis, user, [photos[:10], photos[10:]])
    assert summary["text"].startswith("📚 A batch of 11 photos")
    refusal = next(m for m in await api.messages(user) if (m["text"] or "").startswith("Left out of the batch:"))
    assert refusal["reply_to"] == summary["sent"][2]  # under the photo it is about
    await api.press(user, summary["message_id"], data=Step(action="confirm").pack())
    # Photo 7 fails in the worker: its stored photo is gone before its turn comes (six jobs go first).
    feeder = Feeder(JobQueue(redis, settings.queue), 1)
    held = await until(lambda: feeder.waiting_in_backlog(user), what="the batch in the backlog")
    seventh = next(spec for spec in held.values() if spec.batch_number == 7)
    redis.delete(seventh.image_key)
    final = await api.wait_for(
        user, lambda ms: next((m for m in ms if (m["text"] or "").startswith("✅ Your batch")), None), timeout=240
    )

    albums, files, _ = results_of(await api.history(user), summary["message_id"])
    assert [len(album) for album in albums] == [10]  # ten photos made, one album
    numbers = [int(m["file_name"][:2]) for m in files]
    assert numbers == [1, 2, 4, 5, 6, 8, 9, 10, 11, 12]
    lines = final["text"].split("\n")
    assert lines[0] == "✅ Your batch is ready: 10 photos, 10 images. Full-resolution files are above."
    assert any(line.startswith("Photo 3: I couldn't find a product") for line in lines)
    assert any(line.startswith("Photo 7: This photo has expired") for line in lines)


async def test_cancel_under_the_batch_status_cancels_the_photos_not_started(bot, api, redis, redis_url, tmp_path):
    user = 9103
    summary = await send_batch(api, redis, user, [[product_photo(n) for n in range(6)]])
    # The worker holds the first photo from its start until the Cancel is answered: on a busy machine it could
    # otherwise finish all six before the bot reads the press, or not have started one.
    with worker_process(redis_url, tmp_path / "worker.log", {"BACKEND": "tests.queue.backends:Gated"}):
        await api.press(user, summary["message_id"], data=Step(action="confirm").pack())
        # By its Cancel, kept while photos wait: the board may have edited the first "⏳ Queued…" before it is seen.
        status = await api.wait_for(user, with_button(JobChoice(action="cancel", job_id="").pack()))
        batch_id = status["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[-1]
        await until(lambda: StartedJobRegistry("studio", connection=redis).count, what="the first photo started")
        await api.press(user, status["message_id"], data=JobChoice(action="cancel", job_id=batch_id).pack())
        cancelled = await api.wait_for(
            user, lambda ms: next((m for m in ms if (m["text"] or "").startswith("Cancelled ")), None)
        )
        redis.set(GATE_KEY, 1)
        final = await api.wait_for(
            user,
            lambda ms: next((m for m in ms if (m["text"] or "").startswith(("✅ Your batch", "❌"))), None),
            timeout=120,
        )
    count = int(cancelled["text"].split()[1])
    assert 1 <= count <= 5  # the first photo had started, or was about to, by the press
    # One worker takes them in order: the last ones wait.
    numbers = ", ".join(str(number) for number in range(7 - count, 7))
    assert f"{'Photo' if count == 1 else 'Photos'} {numbers}: Cancelled before it started." in final["text"]


async def test_forget_during_a_batch_stops_it_and_leaves_nothing_of_it(bot, worker, api, redis):
    user = 9104
    summary = await send_batch(api, redis, user, [[product_photo(n) for n in range(5)]])
    await api.press(user, summary["message_id"], data=Step(action="confirm").pack())
    # The status, queued or (a worker being up) already counting.
    await api.wait_for(user, lambda ms: next((m for m in ms if (m["text"] or "").startswith(("⏳", "📚"))), None))
    await forget(api, user)
    await until(
        lambda: not redis.exists(f"{BACKLOG_KEY}{user}") and not redis.llen("rq:queue:studio"),
        timeout_s=60,
        what="the batch's jobs gone",
    )
    await asyncio.sleep(3)  # a job running at the /forget ends meanwhile: its images must not come
    messages = await api.messages(user)
    assert not [m for m in messages if m["message_id"] > summary["message_id"] and m["kind"] in ("photo", "document")]
    assert not [m for m in messages if (m["text"] or "").startswith("✅ Your batch")]
    assert not redis.keys(f"{BATCH_KEY}*") and not redis.exists(f"{BACKLOG_KEY}{user}")
