"""The intake analysis job on a real Redis and RQ worker: the worker's own matte answers, as plain data."""

import numpy as np
import pytest
from rq.job import Job

from shopshot.errors import NoProductFound
from shopshot.pipeline.gallery import sample_photo
from shopshot.pipeline.intake import load_preview
from shopshot.pipeline.matte import candidates_of, product_cutout
from shopshot.pipeline.studio import StudioBackend
from shopshot.queue.analysis import AnalysisFailed, answer_of, enqueue_analysis
from shopshot.queue.enqueue import JobQueue, live_workers
from shopshot.queue.jobs import WorkerContext
from shopshot.queue.store import open_store
from shopshot.queue.worker import StudioWorker
from tests.queue.backends import CentreMatte, centre_matte

SIDE = 640


class RefusingMatte(StudioBackend):
    """A studio whose neural matte finds nothing in any photo."""

    def setup(self) -> None:
        self.neural = self.refuse

    @staticmethod
    def refuse(image, boxes):
        raise NoProductFound()


def _worker(redis, settings, backend) -> StudioWorker:
    backend.setup()
    return StudioWorker(
        [JobQueue(redis, settings.queue).queue],
        connection=redis,
        context=WorkerContext(settings=settings, backend=backend),
    )


def _analyse(redis, settings, backend, keep=(), image_key=None):
    queue = JobQueue(redis, settings.queue).queue
    job = enqueue_analysis(queue, image_key or open_store(redis, settings).put(sample_photo()), SIDE, keep)
    _worker(redis, settings, backend).work(burst=True)
    try:
        return answer_of(job)
    finally:
        assert not Job.exists(job.id, connection=redis)  # read once, then deleted with its answer


def test_the_worker_answers_with_its_neural_matte_s_cut_out_and_candidates(redis, settings):
    cutout, candidates = _analyse(redis, settings, CentreMatte())
    preview, _ = load_preview(sample_photo(), settings.limits, SIDE)
    expected = product_cutout(preview, neural=centre_matte)
    assert cutout.box == expected.box and cutout.image_size == preview.size
    for name in ("alpha", "protect", "foreground"):
        assert np.array_equal(getattr(cutout, name), getattr(expected, name)), name
    assert np.array_equal(cutout.background.coefficients, expected.background.coefficients)
    assert candidates == candidates_of(expected) and len(candidates) == 1


def test_the_seller_s_kept_boxes_prompt_the_worker_s_matte(redis, settings):
    keep = ((0.5, 0.5, 0.9, 0.9),)
    cutout, _ = _analyse(redis, settings, CentreMatte(), keep)
    width, height = cutout.image_size
    assert cutout.box == (round(0.5 * width), round(0.5 * height), round(0.9 * width), round(0.9 * height))


def test_a_refusal_travels_by_its_code(redis, settings):
    with pytest.raises(NoProductFound):
        _analyse(redis, settings, RefusingMatte())


def test_a_failed_analysis_says_so(redis, settings):
    with pytest.raises(AnalysisFailed, match="InputExpired"):
        _analyse(redis, settings, CentreMatte(), image_key="shopshot:blob:expired")


def test_workers_announce_the_matte_they_run(redis, settings):
    jobs = JobQueue(redis, settings.queue)
    classical, neural = _worker(redis, settings, StudioBackend()), _worker(redis, settings, CentreMatte())
    classical.register_birth()
    assert jobs.neural_queue() is None and live_workers(redis, jobs.queue, "classical") == 1
    neural.register_birth()
    assert jobs.neural_queue() == jobs.queue and live_workers(redis, jobs.queue) == 2
    neural.register_death()
    assert jobs.neural_queue() is None
    classical.register_death()
