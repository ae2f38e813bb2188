"""GPU benchmark of the diffusion backend: seconds per image, peak memory, FLOPs, utilisation.

Each task runs through the real backend (`DiffusionBackend.run`: cut-out or parsing, depth,
generation, full-size composite) on each stack (SDXL, FLUX.2 [klein] 4B), built from the registry
checkpoints' real configs with random weights, so nothing is downloaded; speed does not depend on
the weights' values. Full-size models are built directly on the GPU, then cast to bf16.

    .venv/bin/python bench/gpu.py            # CUDA, both stacks at 1024×1024: eager (bf16 + SDPA) and torch.compile
    .venv/bin/python bench/gpu.py --stack klein --no-compile   # one stack, one build
    .venv/bin/python bench/gpu.py --tiny     # CPU, tiny models, a few seconds: keeps this script working
    .venv/bin/python bench/gpu.py --tiny --compile-only   # the torch.compile path on the CPU, tiny models

Each row is the median of 5 timed runs (`--runs`) after a warm-up run, CUDA-synchronised: the whole
job per image ("s/image", and images per hour from it), and within it the denoising loop (first
denoiser call to the decode) and the VAE decode, timed apart; peak VRAM per row. The rows time the
first pass, as the targets do (printed above the table and judged in its last column); the "fast"
rows (the default mode) are timed once more as production runs them, with the detail pass and the
person tasks' face pass on where they apply ("with second passes s"; images per hour come from
that figure where there is one).

FLOPs per step are counted on the meta device (`architectures.step_flops`): FlopCounterMode cannot
run a compiled module. "Of matmul rate" is those FLOPs over the denoising loop's time alone (the
text encoders, VAE decode and compositing are outside it), against the measured matmul rate.
Klein's step also attends over the reference image's latent tokens, so its FLOPs are counted for
the token counts the transformer was actually called with (the "image tokens" column: canvas +
reference); klein is step-distilled, so its one mode row stands for both (4 steps each).

The model-swap and mannequin rows use a drawn figure whose labels stand in for the parser's answer
(random SegFormer weights label noise); the parser itself still runs and is timed.
"""

import argparse
import gc
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler, Flux2KleinInpaintPipeline
from PIL import Image

from fixtures.diffusion import architectures as arch
from fixtures.diffusion import klein_architecture as ka
from fixtures.synthetic import synthetic_person
from shopshot.config import DiffusionSettings
from shopshot.pipeline.devices import resolve_device, resolve_dtype
from shopshot.pipeline.diffusion.backend import DiffusionBackend
from shopshot.pipeline.diffusion.klein import KleinModels
from shopshot.pipeline.diffusion.klein import place as place_klein
from shopshot.pipeline.diffusion.loading import Models, place, with_controlnet
from shopshot.pipeline.diffusion.modes import KLEIN_MODES, MODES, Mode
from shopshot.pipeline.diffusion.perception import ClothesParser, DepthEstimator
from shopshot.pipeline.diffusion.safety import SafetyChecker
from shopshot.pipeline.gallery import sample_product
from shopshot.pipeline.presets import backdrop
from shopshot.pipeline.studio import RenderRequest
from shopshot.pipeline.tasks import Task

TASKS = tuple(Task)
STACKS = ("sdxl", "klein")
TARGET_MODE = "30-step"  # SDXL's row against diffusers' published 30-step figure
PRODUCTION_MODE = "fast"  # the default mode's rows are also timed with the second passes production runs


class FigureParser(ClothesParser):
    """Runs the real parser (so it is timed) but answers with the drawn figure's labels."""

    def __init__(self, real: ClothesParser, label_map: np.ndarray) -> None:
        super().__init__(real.model)
        self.label_map = label_map

    def __call__(self, image: Image.Image) -> np.ndarray:
        super().__call__(image)
        return self.label_map


def build_models(tiny: bool, settings: DiffusionSettings) -> Models:
    """Every model at full (or tiny) size with random weights, placed as `setup()` would place them."""
    scale = arch.TINY if tiny else arch.FULL
    device = resolve_device(settings.device)
    dtype = resolve_dtype(settings.dtype, device)
    arch.seeded(0)
    tokenizer = arch.tiny_tokenizer(Path(tempfile.mkdtemp()) / "tokenizer")  # ids only matter for shapes
    with torch.device(device):  # initialise on the GPU: a 2.6 B-parameter UNet is slow to fill on a CPU
        inpaint = arch.inpaint_pipeline(scale, tokenizer).to(dtype=dtype)
        controlnet = arch.controlnet(scale).to(dtype=dtype)
        depth = arch.depth_model(scale).to(dtype=dtype)
        clothes = arch.clothes_parser(scale)
        # Leaning to "normal", so the random classifier lets the bench's images through as a real one would.
        safety = arch.safety_classifier(scale, unsafe_bias=-10.0).to(dtype=dtype)
    controlled = with_controlnet(inpaint, controlnet, dtype)  # as loading builds it: dtype kept, VAE not upcast
    native, align = inpaint.unet.config.sample_size * inpaint.vae_scale_factor, inpaint.vae_scale_factor * 8
    models = Models(
        inpaint,
        controlled,
        DepthEstimator(depth),
        ClothesParser(clothes),
        native,
        align,
        device,
        settings.cpu_offload,
        SafetyChecker(safety, arch.safety_processor(scale)),
    )
    return place(models, settings)


def build_klein(tiny: bool, settings: DiffusionSettings) -> KleinModels:
    """The klein inpainting pipeline, clothes parser and safety classifier with random weights, placed as `load_klein` places them."""
    scale, perception = (ka.TINY, arch.TINY) if tiny else (ka.FULL, arch.FULL)
    device = resolve_device(settings.device)
    dtype = resolve_dtype(settings.dtype, device)
    arch.seeded(0)
    tokenizer = ka.tiny_qwen_tokenizer(Path(tempfile.mkdtemp()) / "tokenizer")  # ids only matter for shapes
    with torch.device(device):  # initialise on the GPU: 8 B parameters are slow to fill on a CPU
        # The full vocabulary at full size, so the embedding's memory is real; the tiny one matches its tokenizer.
        pipe = Flux2KleinInpaintPipeline(
            scheduler=FlowMatchEulerDiscreteScheduler(),
            vae=ka.vae(scale).to(dtype=dtype),
            tokenizer=tokenizer,
            text_encoder=ka.text_encoder(scale, len(tokenizer) if tiny else None).to(dtype=dtype),
            transformer=ka.transformer(scale).to(dtype=dtype),
            is_distilled=True,
        )
        clothes = arch.clothes_parser(perception)  # float32, as load_klein keeps it
        safety = arch.safety_classifier(perception, unsafe_bias=-10.0).to(dtype=dtype)
    models = KleinModels(
        pipe,
        ClothesParser(clothes),
        pipe.vae.config.sample_size,
        pipe.vae_scale_factor * 2,
        SafetyChecker(safety, arch.safety_processor(perception)),
    )
    return place_klein(models, settings, device)


def matmul_rate(device: torch.device, dtype: torch.dtype, side: int) -> float:
    """Measured FLOP/s of square matmuls: the ceiling the utilisation figures are taken against."""
    a, b = (torch.randn(side, side, device=device, dtype=dtype) for _ in range(2))
    for _ in range(3):
        a @ b
    _sync(device)
    runs, start = 10, time.perf_counter()
    for _ in range(runs):
        a @ b
    _sync(device)
    return 2 * side**3 * runs / (time.perf_counter() - start)


def step_flops(scale: arch.Architecture, controlled: bool) -> float:
    """FLOPs of one denoising step at native size, counted on the meta device (never on a compiled module)."""
    factor = 2 ** (len(scale.vae["block_out_channels"]) - 1)
    return sum(
        arch.step_flops(
            scale.unet, scale.controlnet if controlled else None, scale.unet["sample_size"] * factor, factor
        ).values()
    )


class PassTimer:
    """Times each run's denoising loop and its VAE decode apart, CUDA-synchronised at each boundary.

    The loop runs from the first denoiser call (UNet, ControlNet, transformer) to the start of the decode
    that follows it; the decode is `vae.decode` itself. Summed over a run's passes (the rows run one).
    """

    def __init__(self, device: torch.device, denoisers: tuple[torch.nn.Module, ...], vae: torch.nn.Module) -> None:
        self.device = device
        self.started: float | None = None
        self.loop = self.decode = 0.0
        self.passes = 0  # decodes in the run: one per generation (first pass, each detail tile, the face)
        for module in denoisers:
            module.register_forward_pre_hook(self._denoiser_called)
        real = vae.decode

        def timed_decode(*args, **kwargs):
            _sync(self.device)
            start = time.perf_counter()
            if self.started is not None:
                self.loop, self.started = self.loop + start - self.started, None
            decoded = real(*args, **kwargs)
            _sync(self.device)
            self.decode += time.perf_counter() - start
            self.passes += 1
            return decoded

        vae.decode = timed_decode  # the pipelines call `self.vae.decode`: an instance attribute shadows the method

    def _denoiser_called(self, module, args) -> None:
        if self.started is None:
            _sync(self.device)
            self.started = time.perf_counter()

    def reset(self) -> None:
        """Start counting a new run."""
        self.started, self.loop, self.decode, self.passes = None, 0.0, 0.0, 0


class TokenCounter:
    """The klein transformer's last call's token counts: canvas, reference (image ids with a non-zero time) and prompt."""

    def __init__(self, transformer: torch.nn.Module) -> None:
        self.tokens = (0, 0, 0)
        transformer.register_forward_pre_hook(self._record, with_kwargs=True)

    def _record(self, module, args, kwargs) -> None:
        reference = int((kwargs["img_ids"][0, :, 0] != 0).sum())
        self.tokens = (
            kwargs["hidden_states"].shape[1] - reference,
            reference,
            kwargs["encoder_hidden_states"].shape[1],
        )


@dataclass(frozen=True)
class Job:
    """One group of table rows: a request, the drawn figure's labels for the person tasks, the modes it runs in."""

    label: str
    request: RenderRequest
    labels: np.ndarray | None
    modes: tuple[str, ...]


def jobs(tiny: bool, stack: str) -> list[Job]:
    """Each task (podium uses the depth ControlNet) in the stack's modes, photos at typical phone-upload sizes; on
    SDXL also the white backdrop (no ControlNet) at the target's 30 steps."""
    product = sample_product().resize((240, 300) if tiny else (1200, 1500), Image.Resampling.LANCZOS)
    figure, labels = synthetic_person(arch.CLOTHES_LABELS, (120, 200) if tiny else (768, 1280))
    modes = ("fast", "quality") if stack == "sdxl" else ("fast",)  # klein's "quality" is the same 4 distilled steps
    rows = [Job("backdrop", RenderRequest(product, "podium", "1:1", 1, 0), None, modes)]
    if stack == "sdxl":
        rows.append(Job("backdrop (white)", RenderRequest(product, "white", "1:1", 1, 0), None, (TARGET_MODE,)))
    return rows + [
        Job("model", RenderRequest(figure, "studio", "3:4", 1, 0, task="model", model="amara"), labels, modes),
        Job("mannequin", RenderRequest(figure, "studio", "3:4", 1, 0, task="mannequin", model="kwame"), labels, modes),
    ]


def targets(stack: str, job: Job, mode: str, generation_s: float, utilisation: float) -> str:
    """The issue's targets that apply to a row, each with whether it is met."""
    wanted = []
    if stack == "klein" and job.label == "backdrop":
        wanted.append(("≤ 0.5 s", generation_s <= 0.5))
    if stack == "sdxl" and mode == TARGET_MODE:
        wanted.append(("≤ 2.4 s", generation_s <= 2.4))
    wanted.append(("≥ 40 % of rate", utilisation >= 0.4))
    return "; ".join(f"{label}: {'met' if met else 'not met'}" for label, met in wanted)


def seconds_per_image(
    backend: DiffusionBackend, timer: PassTimer, request: RenderRequest, mode: str, runs: int
) -> tuple[float, float, float, int]:
    """Medians over `runs` runs after a warm-up run: seconds per image, its denoising loop, its VAE decode; the output's long side."""
    request.mode = mode
    [result] = backend.run(request)  # warm-up: lazy init, cuDNN autotune, compilation
    times, loops, decodes = [], [], []
    for _ in range(runs):
        timer.reset()
        _sync(timer.device)
        start = time.perf_counter()
        backend.run(request)
        _sync(timer.device)
        times.append(time.perf_counter() - start)
        loops.append(timer.loop)
        decodes.append(timer.decode)
    return statistics.median(times), statistics.median(loops), statistics.median(decodes), max(result.image.size)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _peak(device: torch.device) -> str:
    return f"{torch.cuda.max_memory_allocated() / 2**30:.1f}" if device.type == "cuda" else "-"


def _si(value: float) -> str:
    """A FLOP count or rate with its SI prefix: 6.8 T, 12 G."""
    for prefix, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6)):
        if value >= scale:
            return f"{value / scale:.3g} {prefix}"
    return f"{value:.3g} "


def _settings(tiny: bool, compiled: bool, stack: str) -> DiffusionSettings:
    # The rows time the first pass, as the targets do: the detail pass (up to four tiles at 30% of the
    # steps, on canvases over 1.25× the generation) and the person tasks' face pass are off here.
    return DiffusionSettings(
        device="cpu" if tiny else "auto",
        dtype="float32" if tiny else "auto",
        compile=compiled,
        stack=stack,
        detail=False,
        face_pass=False,
    )


def bench(
    tiny: bool, compiled: bool, modes: dict[str, Mode], runs: int, rate: float, flops: dict[bool, float]
) -> list[str]:
    """SDXL's table rows for every job and mode with one backend build (eager or compiled); `flops` per step, by ControlNet use."""
    backend = DiffusionBackend(_settings(tiny, compiled, "sdxl"), modes=modes)
    backend.models = build_models(tiny, backend.settings)
    timer = PassTimer(
        backend.models.device,
        (backend.models.inpaint.unet, backend.models.controlled.controlnet),
        backend.models.inpaint.vae,
    )

    def step(request: RenderRequest) -> tuple[float, str]:
        return flops[request.task != "backdrop" or backdrop(request.preset).depth > 0], "-"

    return task_rows("sdxl", backend, timer, tiny, compiled, runs, rate, step)


def bench_klein(tiny: bool, compiled: bool, runs: int, rate: float, meta: torch.nn.Module) -> list[str]:
    """Klein's table rows for every task with one backend build; FLOPs per step counted on `meta` for the tokens it ran."""
    backend = DiffusionBackend(_settings(tiny, compiled, "klein"), modes=KLEIN_MODES)
    backend.models = build_klein(tiny, backend.settings)
    device = resolve_device(backend.settings.device)
    timer = PassTimer(device, (backend.models.pipe.transformer,), backend.models.pipe.vae)
    counter = TokenCounter(backend.models.pipe.transformer)

    def step(request: RenderRequest) -> tuple[float, str]:
        canvas, reference, text = counter.tokens
        return ka.step_flops(meta, canvas + reference, text), f"{canvas} + {reference} ref"

    return task_rows("klein", backend, timer, tiny, compiled, runs, rate, step)


def task_rows(
    stack: str,
    backend: DiffusionBackend,
    timer: PassTimer,
    tiny: bool,
    compiled: bool,
    runs: int,
    rate: float,
    step: Callable[[RenderRequest], tuple[float, str]],
) -> list[str]:
    """Time every job in each of its modes; `step` gives the FLOPs per step and image tokens of the last run."""
    rows = []
    for job in jobs(tiny, stack):
        if job.labels is not None:
            backend.models.clothes = FigureParser(backend.models.clothes, job.labels)
        for key in job.modes:
            mode = backend.modes[key]
            if timer.device.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
            seconds, loop, decode, side = seconds_per_image(backend, timer, job.request, key, runs)
            flops, tokens = step(job.request)
            peak = _peak(timer.device)  # the first pass's, before the second passes run
            utilisation = flops * mode.steps / loop / rate  # the denoisers' share of the matmul rate while they run
            production = _with_second_passes(backend, timer, job.request, key, runs) if key == PRODUCTION_MODE else None
            rows.append(
                f"| {stack} | {job.label} | {key} ({mode.steps} steps) | {'compile' if compiled else 'eager'} | "
                f"{seconds:.3g} | {loop:.3g} | {decode:.3g} | {_or_dash(production)} | "
                f"{3600 / (production[0] if production else seconds):.0f} | {peak} | {_si(flops)}FLOP | {tokens} | {utilisation:.0%} | "
                f"{side} | {targets(stack, job, key, loop + decode, utilisation)} |"
            )
    return rows


def _with_second_passes(
    backend: DiffusionBackend, timer: PassTimer, request: RenderRequest, mode: str, runs: int
) -> tuple[float, int]:
    """Seconds per image as production runs the job (the detail and face passes on where they apply), and its generations."""
    first_only = backend.settings
    backend.settings = first_only.model_copy(update={"detail": True, "face_pass": True})
    try:
        return seconds_per_image(backend, timer, request, mode, runs)[0], timer.passes
    finally:
        backend.settings = first_only


def _or_dash(production: tuple[float, int] | None) -> str:
    return "-" if production is None else f"{production[0]:.3g} ({production[1]} passes)"


def free(device: torch.device) -> None:
    """Drop a finished build's weights before the next is made, so the two never share the GPU."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def main() -> None:
    """Print the benchmark as a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny models on the CPU (a smoke test)")
    parser.add_argument(
        "--runs", type=int, default=None, help="timed runs per row after a warm-up run (default 5, tiny 1)"
    )
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile rows")
    parser.add_argument(
        "--compile-only", action="store_true", help="only the torch.compile rows (with --tiny: on the CPU)"
    )
    parser.add_argument(
        "--stack", choices=(*STACKS, "both"), default="both", help="which model stack to time (default both)"
    )
    args = parser.parse_args()
    if not args.tiny and not torch.cuda.is_available():
        parser.error("no CUDA device: run with --tiny for the CPU smoke test")
    modes = (
        {key: Mode(key, steps=2, guidance_scale=mode.guidance_scale) for key, mode in MODES.items()}
        if args.tiny
        else MODES
    )
    # diffusers' published SDXL figure is 30 steps with classifier-free guidance; the tiny run keeps 2.
    modes = modes | {TARGET_MODE: Mode(TARGET_MODE, steps=2 if args.tiny else 30, guidance_scale=5.0)}
    device = torch.device("cpu" if args.tiny else "cuda")
    rate = matmul_rate(device, torch.float32 if args.tiny else torch.bfloat16, 512 if args.tiny else 8192)
    print(
        f"device: {torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}; "
        f"measured matmul rate {_si(rate)}FLOP/s ({'fp32' if args.tiny else 'bf16'})"
    )
    print(
        "targets: klein backdrop ≤ 0.5 s per 1024² image; SDXL 30 steps ≤ 2.4 s (diffusers' 2.43 s on an A100 with every "
        "optimisation); UNet / transformer ≥ 40 % of the measured bf16 matmul rate. The seconds targets are judged on "
        "denoising + VAE decode (generating the image); s/image is the whole job per image."
    )
    print(
        "| stack | task | mode | build | s/image | denoising s | VAE decode s | with second passes s | images/hour | "
        "peak GiB | FLOP/step | image tokens | of matmul rate | output side | targets |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    runs = args.runs or (1 if args.tiny else 5)
    if args.stack in ("sdxl", "both"):
        scale = arch.TINY if args.tiny else arch.FULL
        flops = {controlled: step_flops(scale, controlled) for controlled in (False, True)}  # before any build exists
        for compiled in builds(args):
            for row in bench(args.tiny, compiled, modes, runs, rate, flops):
                print(row, flush=True)
            free(device)  # the rows hold no model: the build is garbage once bench() returns
    if args.stack in ("klein", "both"):
        with torch.device("meta"):  # allocates nothing: only shapes, for the FLOP counts
            meta = ka.transformer(ka.TINY if args.tiny else ka.FULL)
        for compiled in builds(args):
            for row in bench_klein(args.tiny, compiled, runs, rate, meta):
                print(row, flush=True)
            free(device)


def builds(args: argparse.Namespace) -> tuple[bool, ...]:
    """Which builds to run: eager and compiled, unless told otherwise (`--tiny` alone: eager only, for speed)."""
    if args.compile_only:
        return (True,)
    return (False,) if args.tiny or args.no_compile else (False, True)


if __name__ == "__main__":
    main()
