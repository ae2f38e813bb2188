"""The batch's plain rules: which photos join, how they are numbered, one look for all; its record; its words."""

import pytest
from redis.asyncio import Redis as AsyncRedis

from shopshot.bot import batch, texts
from shopshot.bot.limits import JobLimits, Usage, check
from shopshot.config import LimitSettings
from shopshot.errors import TooManyJobs, TooManyPerMinute
from shopshot.queue.enqueue import JobState
from shopshot.queue.events import EventKind, JobEvent
from shopshot.queue.spec import JobSpec

SPEC = JobSpec(
    chat_id=5,
    user_id=5,
    status_message_id=40,
    image_key="k0",
    preset="studio",
    ratio="4:5",
    variants=2,
    seed=120,
    language="en",
)
NOW = 1_000_000.0


def _collected() -> dict:
    # Handled out of order, as updates on two replicas may be: the numbers follow the message ids.
    collecting = batch.new_collection("g1", NOW)
    collecting = batch.with_photo(collecting, 12, "g1", NOW, ("k12", "photo", 300, 300))
    collecting = batch.with_refusal(collecting, 11, "g1", NOW, "no_product_found", {})
    collecting = batch.with_photo(collecting, 10, "g1", NOW, ("k10", "mug", 640, 480))
    return batch.with_photo(collecting, 20, "g2", NOW + 3, ("k20", "photo", 300, 300))


def test_photos_join_by_album_or_within_the_window_of_the_latest():
    collecting = _collected()
    assert collecting["groups"] == ["g1", "g2"] and collecting["at"] == NOW + 3
    assert batch.joins(collecting, "g1", NOW + 600)  # a late update of one of its albums
    assert batch.joins(
        collecting, None, NOW + 3 + batch.BATCH_WINDOW_S
    )  # a lone photo right after (the 11th of a send)
    assert not batch.joins(collecting, "g3", NOW + 3 + batch.BATCH_WINDOW_S + 1)
    assert not batch.joins(None, "g1", NOW)  # no batch being collected (none, or confirmed)


def test_photos_are_numbered_in_the_order_sent_and_share_one_look():
    photos, refused = batch.numbered(_collected())
    assert [(photo.number, photo.image_key) for photo in photos] == [(1, "k10"), (3, "k12"), (4, "k20")]
    assert refused == {2: ("no_product_found", {})}
    specs = batch.batch_specs(SPEC, photos, "b1", ["j1", "j3", "j4"])
    assert {(spec.preset, spec.ratio, spec.variants, spec.seed) for spec in specs.values()} == {
        ("studio", "4:5", 2, 120)
    }
    assert [(spec.image_key, spec.photo_name, spec.batch_number, spec.batch_size) for spec in specs.values()] == [
        ("k10", "01-mug", 1, 3),
        ("k12", "03-photo", 3, 3),
        ("k20", "04-photo", 4, 3),
    ]


async def test_the_record_completes_when_every_job_has_its_event(redis_url):
    client = AsyncRedis.from_url(redis_url)
    book = batch.BatchBook(client, 3600)
    photos, refused = batch.numbered(_collected())
    specs = batch.batch_specs(SPEC, photos, "b1", ["j1", "j3", "j4"])
    try:
        await book.open("b1", specs, refused)
        first = await book.record(JobEvent("done", "j3", specs["j3"]))
        assert not first.complete and first.refused == {2: ("no_product_found", {})}
        await book.record(JobEvent("done", "j3", specs["j3"]))  # redelivered: kept once
        await book.record(JobEvent("failed", "j1", specs["j1"], error="input_expired"))
        last = await book.record(JobEvent(EventKind.CANCELLED, "j4", specs["j4"]))
        assert last.complete and [(number, event.kind) for number, event in last.in_order()] == [
            (1, "failed"),
            (3, "done"),
            (4, "cancelled"),
        ]
        await book.delete("b1")
        assert await book.record(JobEvent("done", "j3", specs["j3"])) is None  # gone with the delivery, or a /forget
    finally:
        await client.aclose()


def test_a_batch_counts_its_images_against_the_batch_limits():
    limits = LimitSettings(jobs_in_flight=2, jobs_per_minute=6, batch_photos=30)
    check(limits, Usage(0, (), 0, 5.0), NOW, count=30)  # a whole batch, where one more photo would not fit
    check(limits, Usage(2, (NOW - 5,) * 2, 0, 5.0), NOW, count=28)
    with pytest.raises(TooManyJobs):
        check(limits, Usage(3, (), 0, 5.0), NOW, count=28)
    with pytest.raises(TooManyJobs):  # thirty photos in flight leave no room for a single one
        check(limits, Usage(30, (), 0, 5.0), NOW)
    with pytest.raises(TooManyPerMinute) as error:
        check(limits, Usage(0, (NOW - 50, NOW - 10, NOW - 5), 0, 5.0), NOW, count=29)
    assert error.value.params == {
        "count": 3,
        "seconds": 50,
    }  # the two oldest starts must leave: the one 10 s ago in 50 s


async def test_a_batch_takes_its_slots_at_once_and_binds_them_to_its_jobs(redis_url):
    client = AsyncRedis.from_url(redis_url)
    limits = JobLimits(client, LimitSettings(jobs_in_flight=2, batch_photos=5), "replica")
    try:
        ticket = await limits.admit(7, "rq:queue:studio", 5.0, once="once:b", count=5)
        assert len(ticket.members) == 5 and await client.zcard("shopshot:in-flight:7") == 5
        with pytest.raises(TooManyJobs):
            await limits.admit(7, "rq:queue:studio", 5.0)
        await limits.bind(ticket, *(f"job-{n}" for n in range(5)))
        assert sorted(member.decode() for member in await client.zrange("shopshot:in-flight:7", 0, -1)) == [
            f"job-{n}" for n in range(5)
        ]
        assert await limits.release_abandoned() == 0
    finally:
        await client.aclose()


def test_the_batch_status_counts_photos_done_and_shares_the_rest_among_the_workers(catalogs):
    left = [JobState("started", None, 0.5, 2.0), JobState("queued", 1, 0.0, 0.0), JobState("gone", None, 0.0, 0.0)]
    with catalogs.context(), catalogs.use_locale("en"):
        text = texts.batch_status(10, left, typical_job_s=4.0, workers=2)
        assert text.startswith("📚 7 of 10 photos done ▓▓▓▓▓▓▓▓░░ 75%")
        assert text.endswith("About 5 seconds left.")  # 2.5 jobs of 4 s on two workers
        assert texts.batch_failures({3: "Gone.", 7: "Gone.", 5: "Odd."}) == "Photos 3, 7: Gone.\nPhoto 5: Odd."
        assert texts.batch_done(9, 18).startswith("✅ Your batch is ready: 9 photos, 18 images.")
