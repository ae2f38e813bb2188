"""The intake analysis: a worker cuts a stored photo's product out on the bot's preview, with its own matte.

The bot never loads torch, so it cannot run the neural matte the workers run. Where a worker
announces it (`enqueue.live_workers`), the bot queues `analyse_photo` at the front of that worker's
queue (`enqueue_analysis`) and polls for the answer (`answer_of`) a bounded time, then takes the job
back (`withdraw_analysis`): the answer is the cut-out and the candidates the worker found on the
same ≤640-px preview the bot decodes, or the code of the refusal. The bot builds its `Product` from
its own preview's pixels and this cut-out, so what it shows the seller is what the worker's matte
keeps. No answer in time, or a failed job: the bot cuts out classically.
"""

import io
from typing import Any, cast

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

ANALYSE = "shopshot.queue.analysis.analyse_photo"
# A cut-out takes a second or two on one CPU core; past this something is wrong with the worker.
ANALYSIS_TIMEOUT_S = 60
# The bot reads (and deletes) the answer within a poll of its coming, or has stopped waiting for it.
ANSWER_TTL_S = 10
# The refusals an answer carries, by their stable codes (as job events carry errors).
REFUSALS = {error.code: error for error in (NoProductFound, ProductUnclear)}


def analyse_photo(image_key: str, side: int, keep: list[list[float]]) -> dict[str, object]:
    """Cut the product out of a stored photo's preview (at most `side` pixels long) with this worker's matte, as plain data."""
    context, job = CONTEXT.get(), get_current_job()
    assert job is not None  # RQ runs this as a job
    store = context.store(job.connection)
    preview, _ = load_preview(store.get(image_key), context.settings.limits, side)
    try:
        boxes = cast(tuple[NormBox, ...], tuple(tuple(box) for box in keep))  # enqueue_analysis sent NormBoxes as lists
        cutout = product_cutout(preview, boxes, neural_matte(context.backend))
    except NoProductFound as refusal:
        return {"refused": refusal.code}
    return {"cutout": cutout_bytes(cutout), "candidates": [(list(c.box), c.share) for c in candidates_of(cutout)]}


def enqueue_analysis(queue: Queue, image_key: str, side: int, keep: tuple[NormBox, ...] = ()) -> Job:
    """Queue the analysis of a stored photo at the front of `queue`: a seller is waiting for the answer."""
    return queue.enqueue(
        ANALYSE,
        image_key,
        side,
        [list(box) for box in keep],
        at_front=True,
        job_timeout=ANALYSIS_TIMEOUT_S,
        result_ttl=ANSWER_TTL_S,
        failure_ttl=ANSWER_TTL_S,
    )


class AnalysisFailed(Exception):
    """The worker could not analyse the photo (the blob expired, the matte raised): the bot cuts out itself."""


def answer_of(job: Job) -> tuple[Cutout, tuple[Candidate, ...]] | None:
    """The worker's cut-out and candidates once it answered (the job and its answer are then deleted); None while it has not.

    Raises the refusal (NoProductFound, ProductUnclear) the worker answered with, or AnalysisFailed.
    """
    result = job.latest_result()
    if result is None:
        return None
    job.delete()  # read once: the answer holds the product's colours, which /forget must not miss
    if result.type != Result.Type.SUCCESSFUL:
        raise AnalysisFailed(result.exc_string)
    answer = cast(dict[str, Any], result.return_value)  # what analyse_photo returned
    if "refused" in answer:
        raise REFUSALS[answer["refused"]]()
    candidates = tuple(Candidate(tuple(box), share) for box, share in answer["candidates"])
    return cutout_from_bytes(answer["cutout"]), candidates


def withdraw_analysis(queue: Queue, job: Job) -> None:
    """Take back an analysis nobody waits for any more, unless a worker took it first (its answer then lapses unread)."""
    if queue.remove(job.id):
        job.delete()


def cutout_bytes(cutout: Cutout) -> bytes:
    """A cut-out as compressed arrays (numpy's .npz), exact to the last bit."""
    arrays = {
        "box": np.array(cutout.box, np.int64),
        "alpha": cutout.alpha,
        "protect": cutout.protect,
        "coefficients": cutout.background.coefficients,
        "sigma": np.float64(cutout.background.sigma),
        "image_size": np.array(cutout.image_size, np.int64),
    }
    if cutout.foreground is not None:
        arrays["foreground"] = cutout.foreground
    buffer = io.BytesIO()
    # numpy's stubs read **arrays as possibly its allow_pickle flag; no key here is that.
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def cutout_from_bytes(data: bytes) -> Cutout:
    """The cut-out `cutout_bytes` wrote."""
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        x0, y0, x1, y1 = (int(value) for value in arrays["box"])
        width, height = (int(value) for value in arrays["image_size"])
        return Cutout(
            (x0, y0, x1, y1),
            arrays["alpha"],
            arrays["protect"],
            BackgroundModel(arrays["coefficients"], float(arrays["sigma"])),
            (width, height),
            arrays.get("foreground", None),
        )
