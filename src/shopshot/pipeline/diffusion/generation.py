"""One denoising run on SDXL: a fresh scheduler and generator, progress per step, pixels back as float;
and the SDXL painter, what the backend calls for every pass of a job (first pass, detail tiles, face)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from diffusers import DPMSolverMultistepScheduler
from PIL import Image

from shopshot.pipeline.diffusion.masks import framed, generation_size, generation_sizes, pad
from shopshot.pipeline.diffusion.modes import Mode
from shopshot.pipeline.diffusion.scene import Plan

if TYPE_CHECKING:
    from diffusers.pipelines.controlnet.pipeline_controlnet_inpaint_sd_xl import (
        StableDiffusionXLControlNetInpaintPipeline,
    )
    from diffusers.pipelines.pipeline_utils import DiffusionPipeline
    from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl_inpaint import (
        StableDiffusionXLInpaintPipeline,
    )

    from shopshot.pipeline.diffusion.loading import Models

# What diffusers calls back at the end of each denoising step: (pipeline, step, timestep, tensors) -> tensors.
StepEnd = Callable[["DiffusionPipeline", int, Any, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Inputs:
    """What one generation needs, at generation size."""

    prompt: str
    negative_prompt: str
    image: Image.Image
    mask_image: Image.Image
    control_image: Image.Image | None
    controlnet_conditioning_scale: float
    control_guidance_end: float = 1.0


def fresh_scheduler(config: dict[str, Any]) -> DPMSolverMultistepScheduler:
    """A new scheduler per job (schedulers keep state and are not thread-safe)."""
    scheduler: DPMSolverMultistepScheduler = DPMSolverMultistepScheduler.from_config(
        config, algorithm_type="dpmsolver++", use_karras_sigmas=True, euler_at_final=True
    )
    return scheduler


def step_reporter(on_step: Callable[[float], None]) -> StepEnd:
    """A diffusers `callback_on_step_end` that reports the share of the denoising steps done."""

    def step_end(pipeline: "DiffusionPipeline", step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        on_step((step + 1) / pipeline.num_timesteps)
        return tensors

    return step_end


def generate(
    pipe: "StableDiffusionXLInpaintPipeline | StableDiffusionXLControlNetInpaintPipeline",
    inputs: Inputs,
    mode: Mode,
    seed: int,
    on_step: Callable[[float], None],
) -> np.ndarray:
    """Run the pipeline once; return float32 RGB 0..255 at generation size."""
    pipe.scheduler = fresh_scheduler(pipe.scheduler.config)
    # A CPU generator gives the same starting noise on every device; the image is the same only on the
    # same GPU model, dtype and library versions (kernels round differently elsewhere).
    generator = torch.Generator("cpu").manual_seed(seed)
    control: dict[str, Any] = {}
    if inputs.control_image is not None:
        control = {
            "control_image": inputs.control_image,
            "controlnet_conditioning_scale": inputs.controlnet_conditioning_scale,
            "control_guidance_end": inputs.control_guidance_end,
        }

    width, height = inputs.image.size
    result = pipe(
        prompt=inputs.prompt,
        negative_prompt=inputs.negative_prompt,
        image=inputs.image,
        mask_image=inputs.mask_image,
        width=width,
        height=height,
        strength=mode.strength,
        num_inference_steps=mode.num_inference_steps,
        guidance_scale=mode.guidance_scale,
        generator=generator,
        output_type="np",
        callback_on_step_end=step_reporter(on_step),
        **control,
    )
    pixels: np.ndarray = (result.images[0] * 255).astype(np.float32)
    return pixels


def warm_up(models: "Models", sizes: Iterable[tuple[int, int]]) -> None:
    """One one-step run per size and pipeline: torch.compile builds its graphs at setup, not in the first jobs."""
    # Guidance above 1 keeps the doubled (classifier-free guidance) batch that every job runs.
    mode = Mode("warmup", steps=1, guidance_scale=2.0, strength=1.0)
    for size in sorted(sizes):
        image, mask = Image.new("RGB", size, (128, 128, 128)), Image.new("L", size, 255)
        for control in (None, image):
            inputs = Inputs("", "", image, mask, control, 0.5)
            generate(models.pipeline(controlled=control is not None), inputs, mode, 0, lambda fraction: None)


class SdxlPainter:
    """The SDXL stack's passes over a plan: sizes from the snapped set, depth guidance on the first pass only."""

    def __init__(self, models: "Models") -> None:
        self.models = models

    def frame(self, size: tuple[int, int]) -> tuple[int, int]:
        """The generation size for an image of `size`."""
        return generation_size(size, self.models.native, self.models.align)

    def first_inputs(self, plan: Plan) -> tuple[Inputs, tuple[int, int, int, int]]:
        """The plan at generation size (init image, repaint mask, depth), and where in it the plan's image lies."""
        image, mask, box = framed(plan.init, plan.generate, self.frame(plan.init.size))
        depth = None
        if plan.depth_source is not None:
            inner = (box[2] - box[0], box[3] - box[1])
            depth = pad(self.models.depth(plan.depth_source, inner), box, image.size)
        return Inputs(plan.prompt, plan.negative_prompt, image, mask, depth, plan.depth_scale, plan.depth_until), box

    def paint(self, inputs: Inputs, mode: Mode, seed: int, on_step: Callable[[float], None]) -> np.ndarray:
        """One run of the pipeline the inputs need (with the ControlNet where they carry a depth image)."""
        return generate(self.models.pipeline(controlled=inputs.control_image is not None), inputs, mode, seed, on_step)

    def repaint(
        self, prompt: str, negative_prompt: str, image: Image.Image, mask: Image.Image, mode: Mode, seed: int
    ) -> np.ndarray:
        """A second pass (detail tile, face crop): plain inpainting at the image's size, no depth guidance."""
        inputs = Inputs(prompt, negative_prompt, image, mask, None, 0.0)
        return generate(self.models.pipeline(controlled=False), inputs, mode, seed, lambda fraction: None)

    def warm_up(self) -> None:
        """One one-step run per generation size and pipeline (`warm_up`)."""
        warm_up(self.models, generation_sizes(self.models.native, self.models.align))
