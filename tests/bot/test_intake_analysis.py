"""At intake the bot asks a worker running the neural matte to cut the photo out, and cuts out classically when none answers in time."""

import asyncio
import io
import time

import numpy as np
import pytest
from PIL import Image
from redis.asyncio import Redis as AsyncRedis
from skimage import data as photos

from shopshot.bot.studio import PREVIEW_SIDE, Studio
from shopshot.errors import ProductUnclear
from shopshot.launcher import worker_process
from shopshot.pipeline.gallery import prepare_product, sample_photo
from shopshot.pipeline.intake import load_preview, stored_copy
from shopshot.pipeline.matte import product_candidates, product_cutout
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.jobs import WorkerContext
from shopshot.queue.store import open_store
from shopshot.queue.worker import StudioWorker
from tests.conftest import until
from tests.queue.backends import CentreMatte, centre_matte


def chelsea() -> bytes:
    """scikit-image's photo of a cat (Chelsea) on a busy background, as a phone sends it: a JPEG."""
    buffer = io.BytesIO()
    Image.fromarray(photos.chelsea()).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


@pytest.fixture
async def studio(settings, redis, redis_url):
    async_redis = AsyncRedis.from_url(redis_url)
    yield Studio(settings, open_store(redis, settings), JobQueue(redis, settings.queue), async_redis)
    await async_redis.aclose()


def _same_cutout(product, expected_cutout) -> bool:
    return product.cutout.box == expected_cutout.box and np.array_equal(product.cutout.alpha, expected_cutout.alpha)


async def test_a_photo_the_classical_cut_out_refuses_is_cut_out_by_a_neural_worker(
    studio, settings, redis_url, tmp_path, figures
):
    photo_data = chelsea()
    # The bot previews the copy it stores (re-encoded), as the worker reads it.
    preview, _ = load_preview(stored_copy(photo_data, settings.limits), settings.limits, PREVIEW_SIDE)
    settings.limits.intake_analysis_s = 30  # ample on a loaded machine: this test is about the answer, not the bound
    with worker_process(redis_url, tmp_path / "worker.log", {"BACKEND": "tests.queue.backends:CentreMatte"}):
        with pytest.raises(
            ProductUnclear
        ):  # what the bot alone answers for this photo (checked while the worker starts)
            prepare_product(preview)
        await until(studio.jobs.neural_queue, what="the worker announcing the neural matte")
        started = time.monotonic()
        photo = await studio.accept_photo(photo_data, owner=1)
        figures.set("intake with a neural worker, the cat (ms)", round(1000 * (time.monotonic() - started)))
        # With no classical candidate to prompt with, the neural matte looks in the frame's middle.
        (candidate,) = photo.candidates
        assert candidate.box == pytest.approx((0.1, 0.1, 0.9, 0.9), abs=0.01)
        assert _same_cutout(photo.product, centre_matte(preview, (candidate.box,)))
        assert np.array_equal(photo.product.pixels, np.asarray(preview)) and photo.product.cutout.foreground is not None
        keep = (0.5, 0.2, 0.9, 0.9)  # the seller's choice is cut out by the worker too
        kept = await studio.kept_product(photo.key, [list(keep)])
        assert _same_cutout(kept, product_cutout(preview, (keep,), centre_matte))


async def test_without_a_neural_worker_the_bot_cuts_out_classically(studio, settings):
    preview, _ = load_preview(stored_copy(sample_photo(), settings.limits), settings.limits, PREVIEW_SIDE)
    photo = await studio.accept_photo(sample_photo(), owner=1)
    assert _same_cutout(photo.product, prepare_product(preview).cutout)
    assert photo.candidates == product_candidates(preview)
    assert studio.jobs.queue.count == 0  # nobody was asked


async def test_a_neural_worker_that_does_not_answer_in_time_leaves_the_classical_cut_out(studio, settings, redis):
    backend = CentreMatte()
    backend.setup()
    silent = StudioWorker(
        [studio.jobs.queue], connection=redis, context=WorkerContext(settings=settings, backend=backend)
    )
    silent.register_birth()  # announced, but never takes a job
    settings.limits.intake_analysis_s = 0.5
    preview, _ = load_preview(stored_copy(sample_photo(), settings.limits), settings.limits, PREVIEW_SIDE)
    try:
        photo = await asyncio.wait_for(studio.accept_photo(sample_photo(), owner=1), timeout=15)
    finally:
        silent.register_death()
    assert _same_cutout(photo.product, prepare_product(preview).cutout)
    assert studio.jobs.queue.count == 0  # the unanswered analysis was taken back off the queue
