"""A batch holds per photo: every photo's charge in the limits' one transaction, or none; each photo
made spends its hold when the batch is delivered, each photo not made (failed, cancelled) gives its
hold back, and the seller reads one line for the batch. Holds whose jobs are gone are swept, once,
by any replica. The ledger sums to the balance after each. A real Redis, the stand-in for Telegram."""

import asyncio
import time

import pytest
from aiogram.utils.i18n import I18n
from redis.asyncio import Redis as AsyncRedis

from shopshot.billing.ledger import OPEN_KEY, Ledger
from shopshot.billing.prices import Charge
from shopshot.bot import texts
from shopshot.bot.app import create_bot, locales_dir
from shopshot.bot.batch import BatchBook, BatchPhoto, batch_specs
from shopshot.bot.delivery import Delivery
from shopshot.bot.holds import HoldSweep
from shopshot.bot.languages import SellerI18nMiddleware
from shopshot.bot.limits import IN_FLIGHT_KEY
from shopshot.bot.status_board import StatusBoard
from shopshot.bot.studio import Studio, new_job_id
from shopshot.errors import NotEnoughCredits
from shopshot.pipeline.gallery import sample_photo
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.events import JobEvent, ResultImage, publish
from shopshot.queue.spec import JobSpec
from shopshot.queue.store import open_store
from tests.billing.invariant import assert_ledger_sums

USER = 801
PHOTOS = 5
VARIANTS = 2  # each photo's images: the first photo takes the two free images, every other holds two credits


@pytest.fixture
async def studio(settings, redis, redis_url):
    client = AsyncRedis.from_url(redis_url)
    yield Studio(settings, open_store(redis, settings), JobQueue(redis, settings.queue), client)
    await client.aclose()


@pytest.fixture
async def telegram(settings, stand_in, api):
    """The bot's client on the stand-in, and the seller's chat open there."""
    await api.send_text(USER, "/start")
    bot = create_bot(settings, stand_in)
    yield bot
    await bot.session.close()


def _charges(studio: Studio, batch_id: str, job_ids: list[str]) -> list[Charge]:
    return [studio.charge_for(USER, job_id, "backdrop", "white", VARIANTS, "studio", batch_id) for job_id in job_ids]


async def _admitted_batch(studio: Studio, ledger: Ledger, credits: int) -> tuple[str, dict[str, JobSpec]]:
    """A batch of PHOTOS confirmed and put in the seller's backlog, its photos held; the specs by job id."""
    await ledger.grant(USER, credits, "test", once=f"grant-{credits}")
    batch_id, job_ids = new_job_id(), [new_job_id() for _ in range(PHOTOS)]
    ticket = await studio.admit(USER, "studio", count=PHOTOS, charges=_charges(studio, batch_id, job_ids))
    key = await asyncio.to_thread(studio.blobs.put, sample_photo())
    first = JobSpec(
        chat_id=USER,
        user_id=USER,
        status_message_id=1,
        image_key=key,
        preset="white",
        ratio="1:1",
        variants=VARIANTS,
        seed=3,
        language="en",
    )
    photos = [BatchPhoto(number, key, "photo", 300, 300) for number in range(1, PHOTOS + 1)]
    specs = batch_specs(first, photos, batch_id, job_ids)
    await studio.queue_batch(batch_id, specs, {}, ticket)
    return batch_id, specs


async def test_a_batch_of_n_photos_holds_n_charges_in_the_limits_transaction(studio, ledger):
    await ledger.grant(USER, 10, "test", once="grant")
    job_ids = [new_job_id() for _ in range(PHOTOS)]
    ticket = await studio.admit(USER, "studio", count=PHOTOS, charges=_charges(studio, "batch", job_ids))
    assert ticket is not None and ticket.job_ids == tuple(job_ids)
    holds = [await ledger.held(job_id) for job_id in job_ids]
    assert [(hold.free, hold.credits) for hold in holds] == [(2, 0)] + [(0, 2)] * (PHOTOS - 1)
    assert await ledger.redis.zcard(IN_FLIGHT_KEY + str(USER)) == PHOTOS
    # What Confirm shows: the batch's holds together, and the balance left.
    together, balance = await studio.held(USER, *job_ids)
    assert (together.credits, together.free, balance) == (8, 2, 2)
    await assert_ledger_sums(ledger, USER, balance=2, held=8)


async def test_a_batch_that_cannot_be_paid_is_refused_and_holds_nothing_nor_takes_a_slot(studio, ledger, settings):
    await ledger.grant(USER, 7, "test", once="grant")  # the batch needs 8 credits beside the two free images
    job_ids = [new_job_id() for _ in range(PHOTOS)]
    with pytest.raises(NotEnoughCredits) as refused:
        await studio.admit(USER, "studio", count=PHOTOS, charges=_charges(studio, "batch", job_ids))
    i18n = I18n(path=locales_dir(), default_locale="en", domain="shopshot")
    with i18n.context(), i18n.use_locale("en"):
        assert (
            texts.describe(NotEnoughCredits, refused.value.params)
            == "Credits this job needs: 8; your balance: 7. Buy more with /buy."
        )
    with i18n.context(), i18n.use_locale("de"):  # the seller's language, as the error handler answers
        assert (
            texts.describe(NotEnoughCredits, refused.value.params)
            == "Credits, die dieser Auftrag braucht: 8; Ihr Guthaben: 7. Kaufen Sie mehr mit /buy."
        )
    assert [await ledger.held(job_id) for job_id in job_ids] == [None] * PHOTOS
    assert await ledger.redis.zcard(IN_FLIGHT_KEY + str(USER)) == 0
    assert (await ledger.wallet(USER)).free_left == settings.billing.free_images
    await assert_ledger_sums(ledger, USER, balance=7, held=0)


def _event(studio: Studio, kind: str, job_id: str, spec: JobSpec) -> JobEvent:
    if kind != "done":
        return JobEvent(kind, job_id, spec, error="JobFailed")
    photo = studio.blobs.put(sample_photo())
    images = [
        ResultImage(photo_key=photo, file_key=photo, seed=seed, width=300, height=300) for seed in range(VARIANTS)
    ]
    return JobEvent("done", job_id, spec, images=images)


async def test_a_delivered_batch_spends_the_photos_made_and_gives_back_the_failed_one_in_one_line(
    studio, ledger, telegram, api, redis, redis_url, settings
):
    batch_id, specs = await _admitted_batch(studio, ledger, credits=10)
    failed = list(specs)[2]
    for job_id, spec in specs.items():
        publish(
            redis, settings.queue.events_stream, _event(studio, "failed" if job_id == failed else "done", job_id, spec)
        )
    i18n = I18n(path=locales_dir(), default_locale="en", domain="shopshot")
    delivery = Delivery(
        telegram,
        studio.redis,
        settings.queue,
        i18n,
        "bot-a",
        StatusBoard(telegram, studio.jobs, i18n),
        studio.blobs,
        ledger,
    )
    await delivery.ensure_group()
    while await delivery.step(block_ms=100):
        pass
    summary = [m for m in await api.messages(USER) if (m["text"] or "").startswith("✅ Your batch")]
    assert len(summary) == 1 and summary[0]["text"].endswith("↩️ Given back — credits: 2, free images: 0. Balance: 4.")
    moves = await ledger.moves(USER, 100)
    assert sorted(move.ref for move in moves if move.kind == "capture") == sorted(
        job_id for job_id in specs if job_id != failed
    )
    assert [move.ref for move in moves if move.kind == "release"] == [failed]
    # Delivered again (an entry claimed after a crash): nothing moves a second time.
    for job_id, spec in specs.items():
        publish(
            redis, settings.queue.events_stream, _event(studio, "failed" if job_id == failed else "done", job_id, spec)
        )
    while await delivery.step(block_ms=100):
        pass
    assert len(await ledger.moves(USER, 100)) == len(moves)
    await assert_ledger_sums(ledger, USER, balance=4, held=0)
    assert not await studio.redis.exists(*BatchBook.keys_for(batch_id))  # delivered: its record is gone


async def test_cancelling_a_batch_gives_back_every_photo_not_started(studio, ledger):
    batch_id, specs = await _admitted_batch(studio, ledger, credits=10)
    await assert_ledger_sums(ledger, USER, balance=2, held=8)
    dequeued = await studio.cancel_batch(USER, batch_id)
    assert set(dequeued) == set(specs)  # no worker: none had started, in the backlog or fed to the queue
    assert sorted(
        move.ref for move in await ledger.moves(USER, 100) if move.kind == "release" and move.reason == "cancelled"
    ) == sorted(specs)
    assert await ledger.redis.zcard(OPEN_KEY) == 0
    await assert_ledger_sums(ledger, USER, balance=10, held=0)
    assert (await ledger.wallet(USER)).free_left == 2


async def test_the_sweep_gives_back_an_abandoned_hold_once_and_leaves_the_live_ones(
    studio, ledger, telegram, api, settings, redis_url
):
    _batch_id, waiting = await _admitted_batch(
        studio, ledger, credits=20
    )  # live: in the backlog, or queued, and in their batch
    queued, other = new_job_id(), USER + 1  # live: another seller's job alone, waiting in the render queue
    await ledger.grant(other, 5, "test", once="grant-other")
    ticket = await studio.admit(
        other, "studio", charge=studio.charge_for(other, queued, "backdrop", "white", 3, "studio")
    )
    alone = next(iter(waiting.values())).with_changes(
        user_id=other, chat_id=other, batch_id="", batch_number=0, batch_size=0
    )
    await studio.queue(alone, ticket, queued)
    await ledger.hold(Charge(USER, "lost", 3, 1))  # its job's final event never came, and RQ let the job go
    i18n = I18n(path=locales_dir(), default_locale="en", domain="shopshot")

    def replica(client: AsyncRedis) -> HoldSweep:
        own = Ledger(client, settings.billing.free_images)
        return HoldSweep(
            telegram,
            client,
            own,
            studio.jobs,
            studio.feeder,
            BatchBook(client, 60),
            i18n,
            SellerI18nMiddleware(i18n, client),
            settings.queue.job_timeout_s,
        )

    clients = [AsyncRedis.from_url(redis_url) for _ in range(2)]
    try:
        sweeps = [replica(client) for client in clients]
        assert await sweeps[0].sweep() == 0  # too young: a Confirm between its hold and its queueing looks the same
        later = time.time() + sweeps[0].min_age_s + 1
        released = await asyncio.gather(*(sweep.sweep(now=later) for sweep in sweeps))
        assert sum(released) == 1
        assert sum(await asyncio.gather(*(sweep.sweep(now=later) for sweep in sweeps))) == 0
    finally:
        for client in clients:
            await client.aclose()
    told = [m for m in await api.messages(USER) if "never finished" in (m["text"] or "")]
    assert len(told) == 1 and told[0]["text"].endswith("↩️ Given back — credits: 3, free images: 0. Balance: 12.")
    assert [move.reason for move in await ledger.moves(USER, 100) if move.kind == "release"] == ["expired"]
    assert [(await ledger.held(job_id)).placed for job_id in [*waiting, queued]] == [True] * (PHOTOS + 1)
    await assert_ledger_sums(ledger, USER, balance=12, held=8)
    await assert_ledger_sums(ledger, other, balance=4, held=1)


async def test_a_payment_is_thanked_once_whichever_update_or_sync_asks(ledger):
    credited, _ = await ledger.purchase(USER, "charge-1", 10, 50, "small")
    assert credited
    assert [await ledger.thank_once("charge-1") for _ in range(3)] == [True, False, False]
    assert not (await ledger.purchase(USER, "charge-1", 10, 50, "small"))[0]  # the thanks mark is no second credit
    await assert_ledger_sums(ledger, USER, balance=10)
