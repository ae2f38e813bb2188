"""The diffusion backend: SDXL inpainting (+ depth ControlNet) behind the worker contract.

This module imports no torch: the bot can import it; `setup()` loads torch, diffusers and weights.

GPU memory (bf16, 1024² generation, estimates from parameter counts, to be checked with
`bench/gpu.py`): SDXL inpainting UNet 2.6 B parameters ≈ 5.1 GB, text encoders ≈ 1.6 GB, VAE
0.17 GB, depth ControlNet ≈ 2.5 GB, SegFormer-B2 and Depth Anything V2 Small ≈ 0.15 GB together, the
safety classifier (ViT-Base, 86 M parameters) ≈ 0.17 GB.
Peak per task, weights plus activations and the VAE decode: "backdrop" ≈ 12 GB with the ControlNet
(≈ 10 GB for presets without it); "model" and "mannequin" ≈ 12–13 GB. Plan on a 16 GB card, or
24 GB with torch.compile's workspace; with `cpu_offload` only the running module is on the GPU
(≈ 8 GB peak, several seconds slower per image).

`DIFFUSION__STACK=klein` runs FLUX.2 [klein] 4B instead (klein.py: every task, ≈ 18–20 GB peak).

On SDXL each image is generated at ~1 MP (`masks.generation_size`); on a larger canvas the detail pass
(`detail.py`, `DIFFUSION__DETAIL`) repaints it enlarged 1.75× in four tiles at low strength. Past that
the result is cubic-enlarged: a 4096 px canvas or a 40 MP photo gets a softer scene than its product.
Neither the detail pass nor the warm-up (`DIFFUSION__WARMUP`) runs on the klein stack yet.
"""

import logging
from collections.abc import Callable
from dataclasses import replace

from PIL import Image

from shopshot.config import DiffusionSettings, MatteSettings, PolicySettings
from shopshot.errors import UnsafeOutput
from shopshot.pipeline.diffusion.backdrop import plan_backdrop
from shopshot.pipeline.diffusion.detail import detail_mode, refine, wanted
from shopshot.pipeline.diffusion.fashion import plan_person
from shopshot.pipeline.diffusion.masks import fit_box, generation_size, generation_sizes, mask_at, pad, upscale
from shopshot.pipeline.diffusion.modes import KLEIN_MODES, MODES, Mode, resolve_mode
from shopshot.pipeline.diffusion.scene import Plan
from shopshot.pipeline.people import model_preset
from shopshot.pipeline.studio import RenderedImage, RenderRequest, check_request

log = logging.getLogger(__name__)


class DiffusionBackend:
    """Backdrops, model swaps and mannequin-to-model shots, with the product's pixels kept exactly."""

    name = "diffusion"
    tasks = frozenset({"backdrop", "model", "mannequin"})
    # Not measured yet: two images in fast mode at about 2 s each on an A100, estimated from published
    # figures (docs/deploy.md, Sizing), plus the cut-out, depth and compositing.
    typical_job_s = 6.0

    def __init__(self, settings: DiffusionSettings, modes: dict[str, Mode] | None = None, policy: PolicySettings | None = None,
                 matte: MatteSettings | None = None) -> None:
        self.settings = settings
        self.modes = modes if modes is not None else (KLEIN_MODES if settings.stack == "klein" else MODES)
        self.policy = policy if policy is not None else PolicySettings()
        self.matte = matte  # None: the classical cut-out only
        self.models = None
        self.neural = None

    def setup(self) -> None:
        """Load every model once (weights, dtype, device); raises ModelsMissing if any is not pulled."""
        if self.settings.stack == "klein":
            from shopshot.pipeline.diffusion.klein import load_klein

            self.models = load_klein(self.settings, check_outputs=self.policy.check_outputs)
        else:
            from shopshot.pipeline.diffusion.loading import load_models

            self.models = load_models(self.settings, check_outputs=self.policy.check_outputs)
            if self.settings.warmup or self.settings.compile:
                from shopshot.pipeline.diffusion.generation import warm_up

                warm_up(self.models, generation_sizes(self.models.native, self.models.align))
        if self.matte is not None:
            from shopshot.pipeline.matting.loading import load_matte

            self.neural = load_matte(self.matte, self.settings.cache_dir)

    def run(self, request: RenderRequest, progress: Callable[[float], None] | None = None) -> list[RenderedImage]:
        """Render `request.variants` images, variant i with seed `request.seed + i`."""
        mode = self._check(request)
        if self.models is None:
            raise RuntimeError("DiffusionBackend.run() before setup()")
        plan = self._plan(request)
        if plan.strength is not None:
            mode = replace(mode, strength=plan.strength)
        render = self._renderer(plan, mode)
        results = []
        for index in range(request.variants):
            def on_step(fraction: float, index: int = index) -> None:
                if progress is not None:
                    progress((index + fraction) / request.variants)

            pixels = render(request.seed + index, on_step)
            result = plan.finish(upscale(pixels, plan.init.size), request.seed + index)
            self._check_safe(result)
            results.append(result)
        return results

    def _check_safe(self, result: RenderedImage) -> None:
        """Raise UnsafeOutput when the safety classifier scores the finished image at or above the policy's threshold."""
        if self.models.safety is None:
            return
        [score] = self.models.safety.scores([result.image])
        if score >= self.policy.unsafe_threshold:
            log.warning("the safety check flagged a generated image (seed %s, score %.3f): the job is not delivered", result.seed, score)
            raise UnsafeOutput()

    def _check(self, request: RenderRequest) -> Mode:
        """Validate every option before any pixel work; return the mode the job runs in."""
        preset, _ = check_request(request, self.tasks)
        if request.task != "backdrop":
            model_preset(request.model)
        return resolve_mode(request.mode, preset.mode, self.settings.mode, self.modes)

    def _plan(self, request: RenderRequest) -> Plan:
        if request.task == "backdrop":
            return plan_backdrop(request, self.models, self.neural)
        return plan_person(request, self.models, self.neural)

    def _renderer(self, plan: Plan, mode: Mode) -> Callable:
        """The plan's generation as a function of (seed, on_step) giving the plan's image, on the configured stack."""
        if self.settings.stack == "klein":
            from shopshot.pipeline.diffusion.klein import renderer

            return renderer(self.models, plan, mode)
        from shopshot.pipeline.diffusion.generation import generate

        inputs, box = self._inputs(plan)
        detail = self.settings.detail and wanted(plan.init.size, (box[2] - box[0], box[3] - box[1]))
        share = 0.5 if detail else 1.0  # of each image's progress, the first pass's

        def render(seed: int, on_step: Callable[[float], None]):
            pipe = self.models.pipeline(controlled=inputs.control_image is not None)  # the detail pass switches
            pixels, at = generate(pipe, inputs, mode, seed, lambda fraction: on_step(share * fraction)), box
            if detail:
                pixels, at = self._detail(pixels, inputs, box, mode, seed,
                                          lambda fraction: on_step(share + (1 - share) * fraction))
            x0, y0, x1, y1 = at
            return pixels[y0:y1, x0:x1]  # the generated margin cut away
        return render

    def _detail(self, pixels, inputs, box: tuple[int, int, int, int], mode: Mode, seed: int,
                on_tile: Callable[[float], None]):
        """The detail pass over a first-pass result: the enlarged pixels, and where the plan's image lies in them."""
        from shopshot.pipeline.diffusion.generation import Inputs, generate

        tile_mode = detail_mode(mode)

        def run_tile(index: int, image: Image.Image, mask: Image.Image):
            tile = Inputs(inputs.prompt, inputs.negative_prompt, image, mask, None, 0.0)
            # Its own noise per tile and variant (seeds of variants are consecutive, so spaced apart here).
            tile_seed = 16 * seed + 1 + index
            return generate(self.models.pipeline(controlled=False), tile, tile_mode, tile_seed, lambda fraction: None)

        refined = refine(pixels, inputs.mask_image, run_tile, on_tile)
        scale_x, scale_y = refined.shape[1] / pixels.shape[1], refined.shape[0] / pixels.shape[0]
        x0, y0, x1, y1 = box
        return refined, (round(x0 * scale_x), round(y0 * scale_y), round(x1 * scale_x), round(y1 * scale_y))

    def _inputs(self, plan: Plan):
        """The plan at generation size, and where in it the plan's image lies: init image, repaint mask and depth."""
        from shopshot.pipeline.diffusion.generation import Inputs

        frame = generation_size(plan.init.size, self.models.native, self.models.align)
        box = fit_box(plan.init.size, frame)
        inner = (box[2] - box[0], box[3] - box[1])
        image = pad(plan.init.resize(inner, Image.Resampling.LANCZOS), box, frame)
        mask = pad(mask_at(plan.generate, inner), box, frame, fill=255)  # the margin is generated, then cut away
        depth = pad(self.models.depth(plan.depth_source, inner), box, frame) if plan.depth_source is not None else None
        return Inputs(plan.prompt, plan.negative_prompt, image, mask, depth, plan.depth_scale, plan.depth_until), box
