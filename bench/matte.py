"""Benchmark of the neural matte stage at the registry checkpoints' real sizes (random weights cost
what trained ones do): one 1024-px photo, whole stage (prompts from the classical cut-out, SAM 2.1,
trimap, ViTMatte, the Cutout) and its two networks alone, median of a few runs.

Run `.venv/bin/python bench/matte.py`. On CPU everything runs on one thread (torch.set_num_threads(1));
on CUDA, when present, in bfloat16 as workers run it. The random SAM is made to answer "product"
everywhere so the mask is the prompt box and every step runs, ViTMatte on a real-sized crop.
"""

import os

# One core, as promised above: keep numpy's and OpenCV's threads to one too (must precede their import).
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from transformers import Sam2Config, Sam2Model, VitMatteImageProcessorPil  # noqa: E402

from fixtures.matting import architectures as arch  # noqa: E402
from shopshot.pipeline.gallery import sample_product  # noqa: E402
from shopshot.pipeline.matte import product_cutout  # noqa: E402
from shopshot.pipeline.matting.neural import NeuralMatte, at_side  # noqa: E402

RUNS = 5
# (SAM's input side, ViTMatte's working side): the defaults first, then cheaper settings.
SIDES = ((1024, 512), (1024, 384), (512, 384), (512, 256))
PROMPT = ((0.2, 0.12, 0.8, 0.9),)


def main() -> None:
    """Print the markdown table."""
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    photo = sample_product()
    photo = photo.resize(
        (round(photo.width * 1024 / max(photo.size)), round(photo.height * 1024 / max(photo.size))),
        Image.Resampling.LANCZOS,
    )
    print(
        f"photo {photo.width}×{photo.height}, median of {RUNS} runs; {_reference():.1f} GFLOP/s on a 1024² float32 matmul on this core now"
    )
    print(
        "| device | dtype | SAM side | ViTMatte side | SAM 2.1 (ms) | ViTMatte (ms) | whole stage (ms) | whole stage, fastest run (ms) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    devices = [("cpu", torch.float32)] + ([("cuda", torch.bfloat16)] if torch.cuda.is_available() else [])
    for device, dtype in devices:
        for segment_side, edge_side in SIDES:
            matte = _full_size(device, dtype, segment_side, edge_side)
            print(_row(matte, photo, device, dtype, edge_side))


def _full_size(device: str, dtype: torch.dtype, segment_side: int, edge_side: int) -> NeuralMatte:
    arch.seeded(0)
    config = at_side(Sam2Config(**arch.SEGMENTER_FULL), segment_side)
    segmenter = arch.answering_everywhere(Sam2Model(config).eval()).to(device, dtype)
    matting = arch.matting(arch.MATTING_FULL).to(device, dtype)
    return NeuralMatte(segmenter, matting, VitMatteImageProcessorPil(), edge_side)


def _row(matte: NeuralMatte, photo: Image.Image, device: str, dtype: torch.dtype, side: int) -> str:
    width, height = photo.size
    boxes = [(x0 * width, y0 * height, x1 * width, y1 * height) for x0, y0, x1, y1 in PROMPT]
    crop = _crop_at(photo, side)
    trimap = _trimap(crop.shape[:2])
    sam = statistics.median(_times(lambda: matte.logits(photo, boxes), device))
    vitmatte = statistics.median(_times(lambda: matte.alpha(crop, trimap), device))
    whole = _times(lambda: product_cutout(photo, neural=matte), device)  # prompted by the classical candidates
    segment_side = matte.segmenter.config.prompt_encoder_config.image_size
    return (
        f"| {device} | {str(dtype).removeprefix('torch.')} | {segment_side} | {side} | {sam:.0f} | {vitmatte:.0f} | "
        f"{statistics.median(whole):.0f} | {min(whole):.0f} |"
    )


def _crop_at(photo: Image.Image, side: int) -> np.ndarray:
    """The prompt's crop of the photo at ViTMatte's working side, as the stage makes it."""
    width, height = photo.size
    x0, y0, x1, y1 = PROMPT[0]
    crop = photo.crop((round(x0 * width), round(y0 * height), round(x1 * width), round(y1 * height)))
    scale = min(1.0, side / max(crop.size))
    return np.asarray(crop.resize((round(crop.width * scale), round(crop.height * scale)), Image.Resampling.BOX))


def _trimap(shape: tuple[int, int]) -> np.ndarray:
    """Known product in the middle, an unknown band around it, background at the rim (ViTMatte's cost does not depend on which)."""
    trimap = np.zeros(shape, np.uint8)
    trimap[shape[0] // 12 : -shape[0] // 12, shape[1] // 12 : -shape[1] // 12] = 128
    trimap[shape[0] // 8 : -shape[0] // 8, shape[1] // 8 : -shape[1] // 8] = 255
    return trimap


def _reference() -> float:
    """The machine's speed beside the figures (a shared machine's load changes them): GFLOP/s of a plain matmul."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    return 2 * 1024**3 / statistics.median(_times(lambda: a @ b, "cpu")) / 1e6


def _times(run: Callable[[], object], device: str) -> list[float]:
    """Milliseconds of RUNS runs after one warm-up run (the fastest is the least disturbed by other work)."""
    times = []
    for index in range(RUNS + 1):
        start = time.perf_counter()
        run()
        if device == "cuda":
            torch.cuda.synchronize()
        if index:
            times.append((time.perf_counter() - start) * 1000)
    return times


if __name__ == "__main__":
    main()
