"""The diffusion backend: SDXL inpainting (+ depth ControlNet) behind the worker contract.

This module imports no torch: the bot can import it; `setup()` loads torch, diffusers and weights.

GPU memory on a bf16 GPU (docs/performance.md): the weights are 9.8 GB, computed on the meta device
(`fixtures/diffusion/footprint.py`): UNet 5.13 GB, ControlNet 2.50, text encoders 1.64, VAE 0.17, perception and the
safety classifier 0.33. Peak with activations and the VAE decode, estimated, not measured: ≈ 12 GB
(a 16 GB card, or 24 GB with torch.compile's workspace); with `cpu_offload` only the running module
is on the GPU (≈ 8 GB peak, several seconds slower per image).

`DIFFUSION__STACK=klein` runs FLUX.2 [klein] 4B instead (klein.py: every task, 16.2 GB of weights,
≈ 18–20 GB peak estimated). Each stack is a painter (`generation.SdxlPainter`, `klein.KleinPainter`):
its first pass, a low-strength repaint and its warm-up; the passes below are written once for both.

Each image is generated at ~1 MP, at one of a fixed set of sizes (`masks.ASPECTS`; warmed up in
`setup()` with `DIFFUSION__WARMUP` or compile). On a larger canvas the detail pass (`detail.py`,
`DIFFUSION__DETAIL`) repaints it enlarged 1.75× in four tiles at low strength; past that the result
is cubic-enlarged: a 4096 px canvas or a 40 MP photo gets a softer scene than its product. In the
person tasks the face pass (`face.py`, `DIFFUSION__FACE_PASS`) then repaints the new face enlarged.
"""

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import numpy as np
from PIL import Image

from shopshot.config import DiffusionSettings, MatteSettings, PolicySettings
from shopshot.errors import UnsafeOutput
from shopshot.pipeline.diffusion.backdrop import plan_backdrop
from shopshot.pipeline.diffusion.detail import detail_mode, refine, wanted
from shopshot.pipeline.diffusion.face import FACE_STRENGTH, face_box, find_face, retouch
from shopshot.pipeline.diffusion.face import wanted as face_wanted
from shopshot.pipeline.diffusion.fashion import plan_person
from shopshot.pipeline.diffusion.masks import upscale
from shopshot.pipeline.diffusion.modes import KLEIN_MODES, MODES, Mode, resolve_mode, retouched
from shopshot.pipeline.diffusion.scene import Plan
from shopshot.pipeline.people import model_preset
from shopshot.pipeline.studio import RenderedImage, RenderRequest, check_request
from shopshot.pipeline.tasks import Task

if TYPE_CHECKING:
    from shopshot.pipeline.diffusion.klein import KleinModels
    from shopshot.pipeline.diffusion.loading import Models
    from shopshot.pipeline.matting.neural import NeuralMatte

log = logging.getLogger(__name__)

_Inputs = TypeVar("_Inputs")


class Painter(Protocol[_Inputs]):
    """A stack's passes over a plan (`generation.SdxlPainter`, `klein.KleinPainter`), each with its own inputs."""

    def frame(self, size: tuple[int, int]) -> tuple[int, int]: ...

    def first_inputs(self, plan: Plan) -> tuple[_Inputs, tuple[int, int, int, int]]: ...

    def paint(self, inputs: _Inputs, mode: Mode, seed: int, on_step: Callable[[float], None]) -> np.ndarray: ...

    def repaint(
        self, prompt: str, negative_prompt: str, image: Image.Image, mask: Image.Image, mode: Mode, seed: int
    ) -> np.ndarray: ...

    def warm_up(self) -> None: ...


class DiffusionBackend:
    """Backdrops, model swaps and mannequin-to-model shots, with the product's pixels kept exactly."""

    name = "diffusion"
    tasks: frozenset[str] = frozenset(Task)  # as the Backend protocol has it
    # Not measured yet: two images in fast mode at about 2 s each on an A100, estimated from published
    # figures (docs/deploy.md, Sizing), plus the cut-out, depth and compositing.
    typical_job_s = 6.0

    def __init__(
        self,
        settings: DiffusionSettings,
        modes: dict[str, Mode] | None = None,
        policy: PolicySettings | None = None,
        matte: MatteSettings | None = None,
    ) -> None:
        self.settings = settings
        self.modes = modes if modes is not None else (KLEIN_MODES if settings.stack == "klein" else MODES)
        self.policy = policy if policy is not None else PolicySettings()
        self.matte = matte  # None: the classical cut-out only
        self.models: Models | KleinModels | None = None
        self.neural: NeuralMatte | None = None

    def setup(self) -> None:
        """Load every model once (weights, dtype, device); raises ModelsMissing if any is not pulled."""
        if self.settings.stack == "klein":
            from shopshot.pipeline.diffusion.klein import load_klein

            self.models = load_klein(self.settings, check_outputs=self.policy.check_outputs)
        else:
            from shopshot.pipeline.diffusion.loading import load_models

            self.models = load_models(self.settings, check_outputs=self.policy.check_outputs)
        if self.settings.warmup or self.settings.compile:
            self._painter().warm_up()
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

            result = plan.finish(render(request.seed + index, on_step), request.seed + index)
            self._check_safe(result)
            results.append(result)
        return results

    def _check_safe(self, result: RenderedImage) -> None:
        """Raise UnsafeOutput when the safety classifier scores the finished image at or above the policy's threshold."""
        assert self.models is not None  # run() checked
        if self.models.safety is None:
            return
        [score] = self.models.safety.scores([result.image])
        if score >= self.policy.unsafe_threshold:
            log.warning(
                "the safety check flagged a generated image (seed %s, score %.3f): the job is not delivered",
                result.seed,
                score,
            )
            raise UnsafeOutput()

    def _check(self, request: RenderRequest) -> Mode:
        """Validate every option before any pixel work; return the mode the job runs in."""
        preset, _ = check_request(request, self.tasks)
        if request.task != Task.BACKDROP:
            model_preset(request.model)
        return resolve_mode(request.mode, preset.mode, self.settings.mode, self.modes)

    def _plan(self, request: RenderRequest) -> Plan:
        assert self.models is not None  # run() checked
        if request.task == Task.BACKDROP:
            return plan_backdrop(request, self.models, self.neural)
        return plan_person(request, self.models, self.neural)

    def _painter(self) -> Painter[Any]:
        """The configured stack's passes (`generation.SdxlPainter`, `klein.KleinPainter`) over the loaded models."""
        # setup() loaded the models of the configured stack.
        if self.settings.stack == "klein":
            from shopshot.pipeline.diffusion.klein import KleinPainter

            return KleinPainter(cast("KleinModels", self.models))
        from shopshot.pipeline.diffusion.generation import SdxlPainter

        return SdxlPainter(cast("Models", self.models))

    def _renderer(self, plan: Plan, mode: Mode) -> Callable[[int, Callable[[float], None]], np.ndarray]:
        """The plan's image as a function of (seed, on_step): float RGB at the plan's full size, every pass run."""
        painter = self._painter()
        inputs, box = painter.first_inputs(plan)
        detail = self.settings.detail and wanted(plan.init.size, (box[2] - box[0], box[3] - box[1]))
        face = self.settings.face_pass and plan.face_prompt is not None
        # Each pass's share of an image's progress: the detail tiles run about as long as the first pass, the face less.
        shares = _shares((1.0, 1.0 if detail else 0.0, 0.3 if face else 0.0))

        def render(seed: int, on_step: Callable[[float], None]) -> np.ndarray:
            reports = [lambda fraction, share=share: on_step(share[0] + share[1] * fraction) for share in shares]
            pixels, at = painter.paint(inputs, mode, seed, reports[0]), box
            if detail:
                pixels, at = self._detail(painter, pixels, plan, inputs.mask_image, box, mode, seed, reports[1])
            x0, y0, x1, y1 = at
            generated_scale = (x1 - x0) / plan.init.width
            full = upscale(pixels[y0:y1, x0:x1], plan.init.size)  # the generated margin cut away
            if face:
                full = self._face(painter, full, plan, mode, seed, generated_scale)
                reports[2](1.0)
            return full

        return render

    def _detail(
        self,
        painter: Painter[Any],
        pixels: np.ndarray,
        plan: Plan,
        mask: Image.Image,
        box: tuple[int, int, int, int],
        mode: Mode,
        seed: int,
        on_tile: Callable[[float], None],
    ) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        """The detail pass over a first-pass result: the enlarged pixels, and where the plan's image lies in them."""
        tile_mode = detail_mode(mode)

        def run_tile(index: int, image: Image.Image, tile_mask: Image.Image) -> np.ndarray:
            # Its own noise per tile and variant (seeds of variants are consecutive, so spaced apart here).
            return painter.repaint(
                plan.prompt, plan.negative_prompt, image, tile_mask, tile_mode, 16 * seed + 1 + index
            )

        refined = refine(pixels, mask, run_tile, on_tile)
        scale_x, scale_y = refined.shape[1] / pixels.shape[1], refined.shape[0] / pixels.shape[0]
        x0, y0, x1, y1 = box
        return refined, (round(x0 * scale_x), round(y0 * scale_y), round(x1 * scale_x), round(y1 * scale_y))

    def _face(
        self, painter: Painter[Any], pixels: np.ndarray, plan: Plan, mode: Mode, seed: int, generated_scale: float
    ) -> np.ndarray:
        """The face pass over the full-size result (`face.py`); the pixels unchanged where no face needs it."""
        assert self.models is not None and plan.face_prompt is not None  # run() checked; _renderer asks only then
        face_prompt = plan.face_prompt
        face = find_face(self.models.clothes, pixels, plan.generate)
        box = face_box(face)
        if box is None:
            return pixels
        frame = painter.frame((box[2] - box[0], box[3] - box[1]))
        if not face_wanted(box, generated_scale, frame):
            return pixels
        face_mode = retouched(mode, FACE_STRENGTH, "face")

        def run(image: Image.Image, mask: Image.Image) -> np.ndarray:
            # A seed of its own, apart from the first pass's (seed) and the detail tiles' (16 seed + 1..4).
            return painter.repaint(face_prompt, plan.negative_prompt, image, mask, face_mode, 16 * seed + 8)

        return retouch(pixels, face, plan.generate, box, frame, run)


def _shares(weights: tuple[float, ...]) -> list[tuple[float, float]]:
    """Each pass's (start, width) in an image's progress, from their weights (0: a pass not run)."""
    total, start, shares = sum(weights), 0.0, []
    for weight in weights:
        shares.append((start / total, weight / total))
        start += weight
    return shares
