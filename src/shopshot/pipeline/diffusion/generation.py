"""One denoising run: a fresh scheduler and generator, progress per step, pixels back as float."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from diffusers import DPMSolverMultistepScheduler
from PIL import Image

from shopshot.pipeline.diffusion.modes import Mode


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


def fresh_scheduler(config: dict, mode: Mode) -> DPMSolverMultistepScheduler:
    """A new scheduler per job (schedulers keep state and are not thread-safe)."""
    return DPMSolverMultistepScheduler.from_config(
        config, algorithm_type="dpmsolver++", use_karras_sigmas=True, euler_at_final=True)


def step_reporter(on_step: Callable[[float], None]) -> Callable:
    """A diffusers `callback_on_step_end` that reports the share of the denoising steps done."""
    def step_end(pipeline, step: int, timestep, tensors: dict) -> dict:
        on_step((step + 1) / pipeline.num_timesteps)
        return tensors
    return step_end


def generate(pipe, inputs: Inputs, mode: Mode, seed: int, on_step: Callable[[float], None]) -> np.ndarray:
    """Run the pipeline once; return float32 RGB 0..255 at generation size."""
    pipe.scheduler = fresh_scheduler(pipe.scheduler.config, mode)
    # A CPU generator gives the same starting noise on every device; the image is the same only on the
    # same GPU model, dtype and library versions (kernels round differently elsewhere).
    generator = torch.Generator("cpu").manual_seed(seed)
    control = {}
    if inputs.control_image is not None:
        control = {"control_image": inputs.control_image,
                   "controlnet_conditioning_scale": inputs.controlnet_conditioning_scale,
                   "control_guidance_end": inputs.control_guidance_end}

    width, height = inputs.image.size
    result = pipe(prompt=inputs.prompt, negative_prompt=inputs.negative_prompt, image=inputs.image,
                  mask_image=inputs.mask_image, width=width, height=height, strength=mode.strength,
                  num_inference_steps=mode.num_inference_steps, guidance_scale=mode.guidance_scale,
                  generator=generator, output_type="np", callback_on_step_end=step_reporter(on_step), **control)
    return (result.images[0] * 255).astype(np.float32)


def warm_up(models, sizes) -> None:
    """One one-step run per size and pipeline: torch.compile builds its graphs at setup, not in the first jobs."""
    # Guidance above 1 keeps the doubled (classifier-free guidance) batch that every job runs.
    mode = Mode("warmup", steps=1, guidance_scale=2.0, strength=1.0)
    for size in sorted(sizes):
        image, mask = Image.new("RGB", size, (128, 128, 128)), Image.new("L", size, 255)
        for control in (None, image):
            inputs = Inputs("", "", image, mask, control, 0.5)
            generate(models.pipeline(controlled=control is not None), inputs, mode, 0, lambda fraction: None)
