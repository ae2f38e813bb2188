"""Misbehaving backends for real worker processes, loaded as `BACKEND=tests.queue.backends:Slow` and so on."""

import os
import time

import numpy as np
from PIL import Image
from rq import get_current_job

from shopshot.pipeline.cutout import Cutout, fit_background
from shopshot.pipeline.studio import RenderedImage, StudioBackend

RUNS_KEY = "test:runs-by-worker"


class _TestBackend(StudioBackend):
    def __init__(self, settings=None) -> None:
        super().__init__()


class Slow(_TestBackend):
    """The studio after `SLOW_BACKEND_S` seconds of reported progress: a job that waits on purpose."""

    def run(self, request, progress=None):
        seconds = float(os.environ.get("SLOW_BACKEND_S", "3"))
        for step in range(10):
            time.sleep(seconds / 10)
            if progress:
                progress(step / 20)
        return super().run(request, progress)


class Fast(_TestBackend):
    """A tiny image at once, and a count of the jobs each worker ran: for fleet tests."""

    def run(self, request, progress=None):
        job = get_current_job()
        job.connection.hincrby(RUNS_KEY, job.worker_name, 1)
        return [RenderedImage(Image.new("RGB", (8, 8), (200, 200, 200)), request.seed, Image.new("L", (8, 8)), (0, 0))]


class Large(_TestBackend):
    """What a 12-MP landscape photo sent as a file gives at 9:16: 4058×7214 per variant, flat so it is quick to encode."""

    def run(self, request, progress=None):
        size = (4058, 7214)
        return [
            RenderedImage(Image.new("RGB", size, (230, 225, 215)), request.seed + n, Image.new("L", size), (0, 0))
            for n in range(request.variants)
        ]


class EveryTask(Fast):
    """Fast, and claiming every task the way the diffusion backend does: a worker on the GPU queue without a GPU."""

    tasks = frozenset({"backdrop", "model", "mannequin"})


class Raising(_TestBackend):
    """Fails every time with an unexpected error from deep inside a model."""

    def run(self, request, progress=None):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")


class Hanging(_TestBackend):
    """Never returns: only the job's time limit ends it."""

    def run(self, request, progress=None):
        time.sleep(3600)


class OutOfMemory(_TestBackend):
    """Runs out of GPU memory every time, raising exactly what torch raises."""

    def setup(self) -> None:
        import torch  # the worker may import torch; this class is never loaded in the bot

        self.error = torch.cuda.OutOfMemoryError

    def run(self, request, progress=None):
        raise self.error("CUDA out of memory. Tried to allocate 20.00 GiB. GPU 0 has a total capacity of 23.65 GiB")


GATE_KEY = "test:gate"


class Gated(_TestBackend):
    """The studio once the test sets GATE_KEY (a minute at most): a job that runs for as long as the test needs."""

    def run(self, request, progress=None):
        connection = get_current_job().connection
        # Not tests.conftest's `until`: this runs inside the worker process (which must not import the bot that
        # conftest pulls in), and at the deadline the job goes on rather than failing.
        deadline = time.monotonic() + 60
        while not connection.exists(GATE_KEY) and time.monotonic() < deadline:
            time.sleep(0.05)
        return super().run(request, progress)


def centre_matte(image: Image.Image, boxes) -> Cutout:
    """Stands in for the neural matte (SAM 2.1 + ViTMatte): an opaque ellipse filling the first prompt box, on any photo."""
    width, height = image.size
    x0, y0, x1, y1 = (round(share * side) for share, side in zip(boxes[0], (width, height) * 2))
    ys, xs = np.mgrid[y0:y1, x0:x1]
    inside = ((xs + 0.5 - (x0 + x1) / 2) / ((x1 - x0) / 2)) ** 2 + (
        (ys + 0.5 - (y0 + y1) / 2) / ((y1 - y0) / 2)
    ) ** 2 <= 1
    return Cutout(
        (x0, y0, x1, y1), inside.astype(np.float32), inside, fit_background(np.asarray(image)), (width, height)
    )


class CentreMatte(_TestBackend):
    """The studio with `centre_matte` loaded as its neural matte: a worker that announces the neural matte, without torch."""

    def setup(self) -> None:
        self.neural = centre_matte
