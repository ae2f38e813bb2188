"""Loading the registry's checkpoints from the local Hugging Face cache, once per worker.

Nothing is downloaded here (`local_files_only=True`): a missing checkpoint is a ModelsMissing
error at `setup()`, naming what is missing and `shopshot models pull`.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from diffusers import ControlNetModel

# From their modules, not the package: mypy reads the package's names as its no-torch placeholders.
from diffusers.pipelines.controlnet.pipeline_controlnet_inpaint_sd_xl import StableDiffusionXLControlNetInpaintPipeline
from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl_inpaint import (
    StableDiffusionXLInpaintPipeline,
)
from huggingface_hub import try_to_load_from_cache
from safetensors import SafetensorError
from transformers import (
    AutoImageProcessor,
    AutoModelForImageClassification,
    DepthAnythingForDepthEstimation,
    SegformerForSemanticSegmentation,
)

from shopshot.config import DiffusionSettings
from shopshot.errors import ModelsMissing
from shopshot.pipeline.devices import resolve_device, resolve_dtype
from shopshot.pipeline.diffusion.fashion import LABELS
from shopshot.pipeline.diffusion.masks import generation_sizes
from shopshot.pipeline.diffusion.perception import ClothesParser, DepthEstimator
from shopshot.pipeline.diffusion.registry import CLOTHES, CONTROLNET, DEPTH, INPAINT, SAFETY, ModelSpec, allowed_models
from shopshot.pipeline.diffusion.safety import SafetyChecker

log = logging.getLogger(__name__)


@dataclass
class Models:
    """Everything the tasks run on; the two pipelines share every weight (`from_pipe`)."""

    inpaint: StableDiffusionXLInpaintPipeline
    controlled: StableDiffusionXLControlNetInpaintPipeline
    depth: DepthEstimator
    clothes: ClothesParser
    native: int  # the UNet's native side in pixels (1024 for SDXL)
    align: int  # generation sides are multiples of this (VAE factor × 8)
    device: torch.device = torch.device("cpu")
    cpu_offload: bool = False
    safety: SafetyChecker | None = None  # None while the policy does not check outputs
    _offloaded: object = None

    def pipeline(
        self, controlled: bool
    ) -> StableDiffusionXLInpaintPipeline | StableDiffusionXLControlNetInpaintPipeline:
        """The pipeline for a job; with CPU offload, its hooks are set for the pipeline about to run."""
        pipe = self.controlled if controlled else self.inpaint
        if self.cpu_offload and self._offloaded is not pipe:
            # The pipelines share modules, and offload hooks live on the modules: re-hook on a switch.
            pipe.enable_model_cpu_offload(device=self.device)
            self._offloaded = pipe
        return pipe


def check_cached(specs: tuple[ModelSpec, ...], cache_dir: Path | None) -> None:
    """Raise ModelsMissing naming every checkpoint that is not in the cache."""
    missing = [
        spec
        for spec in specs
        if not isinstance(try_to_load_from_cache(spec.repo_id, spec.index_file, cache_dir, spec.revision), str)
    ]
    if missing:
        raise ModelsMissing(models=", ".join(f"{spec.key} ({spec.repo_id})" for spec in missing))


@contextmanager
def _reported_as_missing(spec: ModelSpec) -> Iterator[None]:
    """A checkpoint whose files are incomplete in the cache (absent, or cut short: SafetensorError) is missing too."""
    try:
        yield
    except (OSError, SafetensorError) as error:
        log.error("could not load %s from the cache: %s", spec.repo_id, error)
        raise ModelsMissing(models=f"{spec.key} ({spec.repo_id})") from error


def _source(spec: ModelSpec, settings: DiffusionSettings) -> dict[str, Any]:
    return {
        "pretrained_model_name_or_path": spec.repo_id,
        "revision": spec.revision,
        "cache_dir": settings.cache_dir,
        "local_files_only": True,
    }


def load_models(settings: DiffusionSettings, check_outputs: bool = True) -> Models:
    """Load, place and (optionally) compile every model the tasks use, and the safety classifier when outputs are checked."""
    specs = {spec.key: spec for spec in allowed_models(settings.allow_noncommercial)}
    roles = (INPAINT, CONTROLNET, DEPTH, CLOTHES, SAFETY) if check_outputs else (INPAINT, CONTROLNET, DEPTH, CLOTHES)
    unlisted = [key for key in roles if key not in specs]
    if unlisted:
        raise ModelsMissing(models=", ".join(unlisted))
    check_cached(tuple(spec for spec in specs.values() if spec.key in roles), settings.cache_dir)
    device = resolve_device(settings.device)
    dtype = resolve_dtype(settings.dtype, device)
    inpaint, controlled = _load_pipelines(specs[INPAINT], specs[CONTROLNET], settings, dtype)
    depth, clothes = _load_perception(specs[DEPTH], specs[CLOTHES], settings, dtype)
    safety = load_safety(specs[SAFETY], settings, dtype) if check_outputs else None
    models = Models(inpaint, controlled, depth, clothes, *_native(inpaint), device, settings.cpu_offload, safety)
    return place(models, settings)


def _load_pipelines(
    inpaint_spec: ModelSpec, control_spec: ModelSpec, settings: DiffusionSettings, dtype: torch.dtype
) -> tuple[StableDiffusionXLInpaintPipeline, StableDiffusionXLControlNetInpaintPipeline]:
    with _reported_as_missing(inpaint_spec):
        inpaint = StableDiffusionXLInpaintPipeline.from_pretrained(
            **_source(inpaint_spec, settings), dtype=dtype, variant=inpaint_spec.variant
        )
    with _reported_as_missing(control_spec):
        controlnet = ControlNetModel.from_pretrained(
            **_source(control_spec, settings), dtype=dtype, variant=control_spec.variant
        )
    return inpaint, with_controlnet(inpaint, controlnet, dtype)


def with_controlnet(
    inpaint: StableDiffusionXLInpaintPipeline, controlnet: ControlNetModel, dtype: torch.dtype
) -> StableDiffusionXLControlNetInpaintPipeline:
    """The ControlNet pipeline sharing every module of `inpaint`, both set for `dtype` (the benchmark builds them so too)."""
    if dtype != torch.float16:
        # Only float16 overflows in the SDXL VAE; bf16 and fp32 need no casting to fp32 on every call.
        inpaint.vae.register_to_config(force_upcast=False)
    # from_pipe casts the new pipeline, and so every module it shares with `inpaint`, to float32 unless told.
    controlled: StableDiffusionXLControlNetInpaintPipeline = StableDiffusionXLControlNetInpaintPipeline.from_pipe(
        inpaint, controlnet=controlnet, dtype=dtype
    )
    return controlled


def _load_perception(
    depth_spec: ModelSpec, clothes_spec: ModelSpec, settings: DiffusionSettings, dtype: torch.dtype
) -> tuple[DepthEstimator, ClothesParser]:
    with _reported_as_missing(depth_spec):
        depth = DepthAnythingForDepthEstimation.from_pretrained(**_source(depth_spec, settings), dtype=dtype)
    with _reported_as_missing(clothes_spec):
        # Segmentation runs in float32: it is small, and argmax over bf16 logits flickers at edges.
        clothes = SegformerForSemanticSegmentation.from_pretrained(**_source(clothes_spec, settings))
    return DepthEstimator(depth), ClothesParser(clothes, LABELS)


def load_safety(spec: ModelSpec, settings: DiffusionSettings, dtype: torch.dtype) -> SafetyChecker:
    """The output safety classifier and its own image processor, as the checkpoint's configs describe them."""
    with _reported_as_missing(spec):
        model = AutoModelForImageClassification.from_pretrained(**_source(spec, settings), dtype=dtype)
        # The PIL processor on every machine: the torchvision one resizes a little differently where installed.
        processor = AutoImageProcessor.from_pretrained(**_source(spec, settings), backend="pil")
    return SafetyChecker(model, processor)


def _native(pipe: StableDiffusionXLInpaintPipeline) -> tuple[int, int]:
    return pipe.unet.config.sample_size * pipe.vae_scale_factor, pipe.vae_scale_factor * 8


def place(models: Models, settings: DiffusionSettings) -> Models:
    """Move the models to the device (or set up CPU offload), SDPA attention, optional torch.compile."""
    models.inpaint.set_progress_bar_config(disable=True)
    models.controlled.set_progress_bar_config(disable=True)
    models.depth.model.to(models.device)
    models.clothes.model.to(models.device)
    if models.safety is not None:
        models.safety.model.to(models.device)
    if not models.cpu_offload:
        models.controlled.to(models.device)  # holds every module the plain inpaint pipeline has, plus the ControlNet
    if settings.compile:
        _compile(models)
    return models


def _compile(models: Models) -> None:
    """Compile the two denoisers once; the pipelines share them, so both get the compiled modules."""
    # A graph per generation size, and for the UNet a second per size (called with and without the ControlNet).
    graphs = 2 * len(generation_sizes(models.native, models.align))
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, graphs)
    unet = models.inpaint.unet.to(memory_format=torch.channels_last)
    controlnet = models.controlled.controlnet.to(memory_format=torch.channels_last)
    models.inpaint.unet = models.controlled.unet = torch.compile(unet, fullgraph=True)
    models.controlled.controlnet = torch.compile(controlnet)
