"""The intake analysis: a worker cuts a stored photo's product out on the bot's preview, with its own matte.

The bot never loads torch, so it cannot run the neural matte the workers run. Where a worker
announces it (`enqueue.live_workers`), the bot queues `analyse_photo` at the front of that worker's
queue (`enqueue_analysis`) and waits a bounded time for the answer (`analysis_of`): the cut-out and
the candidates the worker found on the same ≤640-px preview the bot decodes, or the code of the
refusal. The bot rebuilds its `Product` from its own preview's pixels and this cut-out, so what it
shows the seller is what the worker will keep. No answer in time: the bot cuts out classically.
"""

import io
import logging

import numpy as np
from rq import Queue, get_current_job
from rq.job import Job
from rq.results import Result

from shopshot.errors import NoProductFound, ProductUnclear
from shopshot.pipeline.backends import neural_matte
from shopshot.pipeline.cutout import BackgroundModel, Cutout
from shopshot.pipeline.intake import load_preview
from shopshot.pipeline.matte import Candidate, NormBox, candidates_of, product_cutout
from shopshot.queue.jobs import CONTEXT
from shopshot.queue.store import BlobStore

log = logging.getLogger(__name__)

ANALYSE = "shopshot.queue.analysis.analyse_photo"
# A cut-out takes a second or two on one CPU core; past this something is wrong with the worker.
ANALYSIS_TIMEOUT_S = 60
# The bot reads the answer as it comes, or has stopped waiting for it.
ANSWER_TTL_S = 60
# The refusals an answer carries, by a stable code (the class's name, as job events carry errors).
REFUSALS = {error.__name__: error for error in (NoProductFound, ProductUnclear)}


def analyse_photo(image_key: str, side: int, keep: list[list[float]]) -> dict:
    """Cut the product out of a stored photo's preview (at most `side` pixels long) with this worker's matte, as plain data."""
    context = CONTEXT.get()
    store = BlobStore(get_current_job().connection, context.settings.queue.image_ttl_s)
    preview, _ = load_preview(store.get(image_key), context.settings.limits, side)
    try:
        cutout = product_cutout(preview, tuple(tuple(box) for box in keep), neural_matte(context.backend))
    except NoProductFound as refusal:
        return {"refused": type(refusal).__name__}
    return {"cutout": cutout_bytes(cutout), "candidates": [(list(c.box), c.share) for c in candidates_of(cutout)]}


def enqueue_analysis(queue: Queue, image_key: str, side: int, keep: tuple[NormBox, ...] = ()) -> Job:
    """Queue the analysis of a stored photo at the front of `queue`: a seller is waiting for the answer."""
    return queue.enqueue(
        ANALYSE, image_key, side, [list(box) for box in keep],
        at_front=True, job_timeout=ANALYSIS_TIMEOUT_S, result_ttl=ANSWER_TTL_S, failure_ttl=ANSWER_TTL_S,
    )


def analysis_of(queue: Queue, job: Job, wait_s: int) -> tuple[Cutout, tuple[Candidate, ...]] | None:
    """The worker's cut-out and candidates, waiting at most `wait_s` seconds; None when none came or the job failed.

    Raises the refusal (NoProductFound, ProductUnclear) the worker answered with.
    """
    result = job.latest_result(timeout=wait_s)  # RQ blocks on the job's result stream (XREAD)
    if result is None:
        if queue.remove(job.id):  # still waiting: no worker will run it for nobody
            job.delete()
        log.info("intake analysis %s not answered within %d s; cutting out classically", job.id, wait_s)
        return None
    if result.type != Result.Type.SUCCESSFUL:
        log.warning("intake analysis %s failed; cutting out classically: %s", job.id, result.exc_string)
        return None
    answer = result.return_value
    if "refused" in answer:
        raise REFUSALS[answer["refused"]]()
    candidates = tuple(Candidate(tuple(box), share) for box, share in answer["candidates"])
    return cutout_from_bytes(answer["cutout"]), candidates


def cutout_bytes(cutout: Cutout) -> bytes:
    """A cut-out as compressed arrays (numpy's .npz), exact to the last bit."""
    arrays = {
        "box": np.int64(cutout.box), "alpha": cutout.alpha, "protect": cutout.protect,
        "coefficients": cutout.background.coefficients, "sigma": np.float64(cutout.background.sigma),
        "image_size": np.int64(cutout.image_size),
    }
    if cutout.foreground is not None:
        arrays["foreground"] = cutout.foreground
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def cutout_from_bytes(data: bytes) -> Cutout:
    """The cut-out `cutout_bytes` wrote."""
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return Cutout(
            tuple(int(value) for value in arrays["box"]), arrays["alpha"], arrays["protect"],
            BackgroundModel(arrays["coefficients"], float(arrays["sigma"])),
            tuple(int(value) for value in arrays["image_size"]),
            arrays["foreground"] if "foreground" in arrays else None,
        )
