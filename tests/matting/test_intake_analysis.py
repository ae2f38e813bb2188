"""The intake analysis on a worker that loaded the tiny random neural matte: the bot gets that stage's own answer."""

import numpy as np

from shopshot.pipeline.gallery import sample_photo
from shopshot.pipeline.intake import load_preview
from shopshot.pipeline.matte import candidates_of, product_cutout
from shopshot.pipeline.studio import StudioBackend
from shopshot.queue.analysis import answer_of, enqueue_analysis
from shopshot.queue.enqueue import JobQueue
from shopshot.queue.jobs import WorkerContext
from shopshot.queue.store import open_store
from shopshot.queue.worker import StudioWorker

SIDE = 160  # a small preview: the tiny networks' cost, not the bot's 640 px


def test_the_analysis_answers_with_the_loaded_neural_stage(redis, settings, whole_frame_cache, cpu_settings):
    backend = StudioBackend(cpu_settings, whole_frame_cache)
    backend.setup()
    queue = JobQueue(redis, settings.queue).queue
    job = enqueue_analysis(queue, open_store(redis, settings).put(sample_photo()), SIDE)
    StudioWorker([queue], connection=redis, context=WorkerContext(settings=settings, backend=backend)).work(burst=True)
    cutout, candidates = answer_of(job)
    preview, _ = load_preview(sample_photo(), settings.limits, SIDE)
    expected = product_cutout(preview, neural=backend.neural)
    assert cutout.box == expected.box and candidates == candidates_of(expected)
    np.testing.assert_allclose(cutout.alpha, expected.alpha, atol=1e-6)
    np.testing.assert_allclose(cutout.foreground, expected.foreground, atol=1e-3)
