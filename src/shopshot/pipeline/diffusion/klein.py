"""The FLUX.2 [klein] 4B stack (`DIFFUSION__STACK=klein`): loading it from the cache and running a plan on it.

It serves every task through the same plans as SDXL: the planned canvas is the init image, the
grown repaint mask says what is new, and the box around the plan's reference region (the product;
the garment, for model swaps and mannequins) goes in as the reference image, so the model sees it
whole while it paints around it. Klein is step-distilled: 4 steps, guidance off (the pipeline
ignores guidance for a distilled checkpoint), no negative prompt, no ControlNet (the plans' depth
guidance is not used: the body's shape comes from what is kept around the repainted area). The
product is pasted back by the plan's own `finish`, so the exact-pixel promise is the same as on SDXL.

Generation sizes snap to the same aspects as SDXL's (`masks.ASPECTS`, at most 1024² pixels), the
photo fitted unstretched and the margin generated, then cut away; the detail pass, the face pass and
the warm-up run here too (`KleinPainter`), their low-strength passes the tail of the 4-step schedule.

GPU memory (bf16, computed on the meta device by `fixtures/diffusion/footprint.py`; not measured, no GPU was available):
transformer 3.876 B parameters = 7.75 GB, Qwen3-4B text encoder 4.022 B = 8.04 GB, VAE 84 M = 0.17 GB;
with the clothes parser (fp32) and the safety classifier, 16.2 GB of weights. Peak, estimated:
≈ 18–20 GB at 1024² with the reference tokens and the VAE decode — a 24 GB card. With `cpu_offload` only the running model is on
the GPU (the text encoder, then the transformer: ≈ 8 GB each + activations), so a 16 GB card may do.

Compute (counted on the meta device, `fixtures/diffusion/klein_architecture.step_flops`): one transformer step at 1024²
is 34.8 TFLOP without a reference and 76.7 TFLOP with a reference as large as the canvas (products
fill less: ≈ 50 TFLOP at 40 %); 4 steps are 140–310 TFLOP an image, ≈ 0.17–0.38 s at 800 TFLOP/s.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler

# From its module, not the package: mypy reads the package's names as its no-torch placeholders.
from diffusers.pipelines.flux2.pipeline_flux2_klein_inpaint import Flux2KleinInpaintPipeline
from PIL import Image
from transformers import SegformerForSemanticSegmentation

from shopshot.config import DiffusionSettings
from shopshot.errors import ModelsMissing
from shopshot.pipeline.devices import resolve_device, resolve_dtype
from shopshot.pipeline.diffusion.fashion import LABELS
from shopshot.pipeline.diffusion.generation import step_reporter
from shopshot.pipeline.diffusion.loading import _reported_as_missing, _source, check_cached, load_safety
from shopshot.pipeline.diffusion.masks import ASPECTS, framed, snapped_aspect
from shopshot.pipeline.diffusion.modes import Mode
from shopshot.pipeline.diffusion.perception import ClothesParser
from shopshot.pipeline.diffusion.registry import CLOTHES, KLEIN, SAFETY, allowed_models
from shopshot.pipeline.diffusion.safety import SafetyChecker
from shopshot.pipeline.diffusion.scene import Plan


@dataclass
class KleinModels:
    """The klein inpainting pipeline, the clothes parser and the safety classifier, placed on their device."""

    pipe: Flux2KleinInpaintPipeline
    clothes: ClothesParser  # the person tasks find the garment with it
    native: int  # the side, in pixels, of the square the VAE was trained at (1024)
    align: int  # generation sides are multiples of this (VAE factor × the 2×2 latent patches)
    safety: SafetyChecker | None = None


@dataclass(frozen=True)
class KleinInputs:
    """What one klein generation needs, at generation size."""

    prompt: str
    image: Image.Image
    mask_image: Image.Image
    reference: Image.Image | None  # None in the second passes (detail tiles, the face): the canvas shows what is kept


def load_klein(settings: DiffusionSettings, check_outputs: bool = True) -> KleinModels:
    """Load the klein pipeline, the clothes parser (and the safety classifier when outputs are checked), and place them."""
    specs = {spec.key: spec for spec in allowed_models(settings.allow_noncommercial)}
    roles = (KLEIN, CLOTHES, SAFETY) if check_outputs else (KLEIN, CLOTHES)
    unlisted = [key for key in roles if key not in specs]
    if unlisted:
        raise ModelsMissing(models=", ".join(unlisted))
    check_cached(tuple(specs[key] for key in roles), settings.cache_dir)
    device = resolve_device(settings.device)
    dtype = resolve_dtype(settings.dtype, device)
    with _reported_as_missing(specs[KLEIN]):
        # The repository's model_index names the text-to-image class; the inpainting class has the same components.
        pipe = Flux2KleinInpaintPipeline.from_pretrained(**_source(specs[KLEIN], settings), dtype=dtype)
    with _reported_as_missing(specs[CLOTHES]):
        # Float32, as on the SDXL stack: it is small, and argmax over bf16 logits flickers at edges.
        clothes = ClothesParser(
            SegformerForSemanticSegmentation.from_pretrained(**_source(specs[CLOTHES], settings)), LABELS
        )
    safety = load_safety(specs[SAFETY], settings, dtype) if check_outputs else None
    models = KleinModels(pipe, clothes, pipe.vae.config.sample_size, pipe.vae_scale_factor * 2, safety)
    return place(models, settings, device)


def place(models: KleinModels, settings: DiffusionSettings, device: torch.device) -> KleinModels:
    """Move the pipeline to the device (or set up CPU offload); optionally compile the transformer."""
    models.pipe.set_progress_bar_config(disable=True)
    models.clothes.model.to(device)
    if models.safety is not None:
        models.safety.model.to(device)
    if settings.cpu_offload:
        models.pipe.enable_model_cpu_offload(device=device)
    else:
        models.pipe.to(device)
    if settings.compile:
        # Not fullgraph: untested on the klein transformer (no GPU was available to try it). A graph per
        # generation size, with and without a reference (the warm-up builds them at setup).
        graphs = 2 * len(klein_sizes(models.native, models.align))
        torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, graphs)
        models.pipe.transformer = torch.compile(models.pipe.transformer)
    return models


def klein_inputs(plan: Plan, models: KleinModels) -> tuple[KleinInputs, tuple[int, int, int, int]]:
    """The plan fitted into its snapped generation size, with the box of its reference region (else what is kept) as
    the reference image; and where in the frame the plan's image lies (the margin is generated, then cut away)."""
    image, mask, box = framed(plan.init, plan.generate, klein_frame(plan.init.size, models.native, models.align))
    shown = plan.reference if plan.reference is not None else ~plan.generate
    return KleinInputs(plan.prompt, image, mask, reference_crop(image.crop(box), shown, models.align)), box


def klein_frame(size: tuple[int, int], native: int, align: int) -> tuple[int, int]:
    """The generation size for an image of `size`: `klein_size` of the nearest of the snapped aspects (`masks.ASPECTS`)."""
    return klein_size((snapped_aspect(size), 1.0), native, align)


def klein_sizes(native: int, align: int) -> frozenset[tuple[int, int]]:
    """Every size `klein_frame` gives: one per aspect (what the warm-up runs, and torch.compile builds graphs for)."""
    return frozenset(klein_size((aspect, 1.0), native, align) for aspect in ASPECTS)


def klein_size(size: tuple[float, float], native: int, align: int) -> tuple[int, int]:
    """(width, height) with the image's aspect, sides a multiple of `align`, at most native² pixels.

    Rounded down: the pipeline shrinks anything over 1024² pixels itself, with its own rounding.
    """
    aspect = size[0] / size[1]
    # The tolerance keeps a side that is a whole number of `align`s (3:4 of 64 is 48) from flooring a step below.
    return (
        max(align, math.floor(native * math.sqrt(aspect) / align + 1e-9) * align),
        max(align, math.floor(native / math.sqrt(aspect) / align + 1e-9) * align),
    )


def reference_crop(image: Image.Image, kept: np.ndarray, align: int) -> Image.Image:
    """The box around a region (a full-size mask), cut from `image` (the plan's image at any size), each side at least `align` pixels."""
    if not kept.any():  # a product so thin that the repaint ring covers it: the whole canvas is the reference
        return image
    ys, xs = np.nonzero(kept)
    scale_x, scale_y = image.width / kept.shape[1], image.height / kept.shape[0]
    box = [
        math.floor(xs.min() * scale_x),
        math.floor(ys.min() * scale_y),
        math.ceil((xs.max() + 1) * scale_x),
        math.ceil((ys.max() + 1) * scale_y),
    ]
    for low, side in ((0, image.width), (1, image.height)):
        # A sliver (a thin product) still needs one latent patch: widen it about its centre, inside the image.
        short = align - (box[low + 2] - box[low])
        if short > 0:
            box[low] = max(0, min(side - align, box[low] - short // 2))
            box[low + 2] = box[low] + align
    return image.crop(tuple(box))


def generate_klein(
    pipe: Flux2KleinInpaintPipeline, inputs: KleinInputs, mode: Mode, seed: int, on_step: Callable[[float], None]
) -> np.ndarray:
    """Run the klein pipeline once; return float32 RGB 0..255 at generation size.

    The distilled modes ask for their fixed 4-step schedule (`Mode.schedule`): below strength 1 the pipeline
    runs its tail, the sigmas the model was distilled on.
    """
    pipe.scheduler = FlowMatchEulerDiscreteScheduler.from_config(pipe.scheduler.config)  # schedulers keep state
    # A CPU generator gives the same starting noise on every device (the image still varies with device and dtype).
    generator = torch.Generator("cpu").manual_seed(seed)

    width, height = inputs.image.size
    result = pipe(
        prompt=inputs.prompt,
        image=inputs.image,
        mask_image=inputs.mask_image,
        image_reference=inputs.reference,
        width=width,
        height=height,
        strength=mode.strength,
        num_inference_steps=mode.num_inference_steps,
        guidance_scale=mode.guidance_scale,
        generator=generator,
        output_type="np",
        callback_on_step_end=step_reporter(on_step),
    )
    pixels: np.ndarray = (result.images[0] * 255).astype(np.float32)
    return pixels


class KleinPainter:
    """The klein stack's passes over a plan: the reference image on the first pass only."""

    def __init__(self, models: KleinModels) -> None:
        self.models = models

    def frame(self, size: tuple[int, int]) -> tuple[int, int]:
        """The generation size for an image of `size`."""
        return klein_frame(size, self.models.native, self.models.align)

    def first_inputs(self, plan: Plan) -> tuple[KleinInputs, tuple[int, int, int, int]]:
        """The plan at generation size with its reference image, and where in the frame the plan's image lies."""
        return klein_inputs(plan, self.models)

    def paint(self, inputs: KleinInputs, mode: Mode, seed: int, on_step: Callable[[float], None]) -> np.ndarray:
        """One run of the klein pipeline."""
        return generate_klein(self.models.pipe, inputs, mode, seed, on_step)

    def repaint(
        self, prompt: str, negative_prompt: str, image: Image.Image, mask: Image.Image, mode: Mode, seed: int
    ) -> np.ndarray:
        """A second pass (detail tile, face crop) without a reference; klein takes no negative prompt."""
        return generate_klein(
            self.models.pipe, KleinInputs(prompt, image, mask, None), mode, seed, lambda fraction: None
        )

    def warm_up(self) -> None:
        """One one-step run per generation size, with a reference (first passes) and without (second passes).

        A reference's token count follows the product's box, so under torch.compile a job's first reference
        size may still build a graph: the warm-up's two counts per size make the compiler take the token
        dimension as dynamic from the start.
        """
        mode = Mode("warmup", steps=1, guidance_scale=1.0, strength=1.0)
        for size in sorted(klein_sizes(self.models.native, self.models.align)):
            image, mask = Image.new("RGB", size, (128, 128, 128)), Image.new("L", size, 255)
            half = image.crop((0, 0, max(self.models.align, size[0] // 2), max(self.models.align, size[1] // 2)))
            for reference in (half, None):
                generate_klein(
                    self.models.pipe, KleinInputs("", image, mask, reference), mode, 0, lambda fraction: None
                )
