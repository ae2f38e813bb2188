"""The CPU studio backend: the product matte, procedural backdrop, product pixels kept exactly (or resampled, never redrawn)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from shopshot.config import MatteSettings
from shopshot.errors import InvalidOption
from shopshot.pipeline import compositing
from shopshot.pipeline.backdrops import Stage, Style, look_of, style_for
from shopshot.pipeline.cutout import Cutout
from shopshot.pipeline.layout import VARIANT_CHOICES, Fit, Ratio, fit, place_product, ratio, scaled
from shopshot.pipeline.matte import NormBox, product_cutout
from shopshot.pipeline.presets import Backdrop, backdrop
from shopshot.pipeline.resampling import resampled
from shopshot.pipeline.tasks import Task
from shopshot.pipeline.viewpoint import seen_from_above

if TYPE_CHECKING:
    from shopshot.pipeline.matting.neural import NeuralMatte

# The neural matte on one CPU core, float32, the whole stage for a 1024-px photo at SAM's native
# side: 5.5 s median (docs/performance.md, "Neural matte"); SAM's encoder is 5.2 s of it, so another
# side costs about its pixel count's share (512: 1.4 s; measured there 1.4-1.9 s).
_NEURAL_CPU_S, _NEURAL_SIDE = 5.5, 1024


@dataclass
class RenderRequest:
    """One job: `task` picks the recipe; `model`, `prompt_extra` and `mode` matter to diffusion backends."""

    image: Image.Image
    preset: str
    ratio: str
    variants: int
    seed: int
    task: Task = Task.BACKDROP
    model: str | None = None  # a people.MODEL_PRESETS key, for the person tasks
    prompt_extra: str = ""  # the seller's one-line addition to the prompt
    mode: str | None = None  # "fast" or "quality"; None: the preset's, else the operator's default
    white_shadow: bool = True  # a soft shadow under the product on pure white (off: none at all)
    keep: tuple[NormBox, ...] = ()  # the candidates the seller kept (`pipeline.matte`); empty: the automatic cut-out
    shape: Ratio | None = None  # a marketplace pack's own sizes for `ratio` (`pipeline.packs`); None: the format's
    fill: float | None = None  # the product's share of the canvas a pack's rule needs; None: the preset's


@dataclass
class RenderedImage:
    """An output; pixel (x + ox, y + oy) of `image` inside `protect` is pixel (x, y) of the product's
    pixels at `scale`: the photo itself at 1, else its product box resampled (`pipeline.resampling`)."""

    image: Image.Image
    seed: int
    protect: Image.Image
    offset: tuple[int, int]
    scale: float = 1.0


class StudioBackend:
    """Studio shots on CPU: one cut-out per request (neural when its weights are pulled), one backdrop per variant."""

    name = "studio"
    tasks: frozenset[str] = frozenset({Task.BACKDROP})  # as the Backend protocol has it
    # Two variants with their JPEG and PNG: 0.5 s for the 1200×1500 sample, 1.5-2.7 s for a 12 MP file,
    # on the shared 2-core development machine; a 1:1 job of the sample, enlarged to 2000×2000, takes
    # about twice the 4:5 one; setup adds the neural matte's time where it loads on CPU. Only the
    # first ETA uses this: then the queue's measured median does.
    typical_job_s = 1.0

    def __init__(self, matte: MatteSettings | None = None, cache_dir: Path | None = None) -> None:
        self.matte = matte  # None: the classical cut-out only, nothing loaded
        self.cache_dir = cache_dir
        self.neural: NeuralMatte | None = None

    def setup(self) -> None:
        """Load the neural matte when enabled and pulled; otherwise nothing: the classical cut-out is plain image processing."""
        if self.matte is not None:
            from shopshot.pipeline.matting.loading import load_matte

            self.neural = load_matte(self.matte, self.cache_dir)
            if self.neural is not None and self.neural.device.type == "cpu":
                self.typical_job_s = (
                    StudioBackend.typical_job_s + _NEURAL_CPU_S * (self.neural.side / _NEURAL_SIDE) ** 2
                )

    def run(self, request: RenderRequest, progress: Callable[[float], None] | None = None) -> Iterator[RenderedImage]:
        """Check the request and cut the product out now; then render variant i (seed `request.seed + i`) as each is asked for."""
        style, shape = _check(request)
        pixels, cutout = np.asarray(request.image), product_cutout(request.image, request.keep, self.neural)
        overhead = seen_from_above(pixels, cutout)  # judged on the whole photo, before any resample
        pixels, cutout, framing = fit_product(request.image, cutout, shape, style.fill)
        return _variants(request, pixels, cutout, style, shape, framing, overhead, progress)


def _variants(
    request: RenderRequest,
    pixels: np.ndarray,
    cutout: Cutout,
    style: Style,
    shape: Ratio,
    framing: Fit,
    overhead: bool,
    progress: Callable[[float], None] | None,
) -> Iterator[RenderedImage]:
    # One at a time: at 40 MP a variant and its canvas take about 1 GB, so the caller stores and
    # drops each before the next is painted; progress counts the variants it has taken.
    for index in range(request.variants):
        yield render_variant(pixels, cutout, style, shape, request.seed + index, framing, overhead)
        if progress is not None:
            progress((index + 1) / request.variants)


def _check(request: RenderRequest) -> tuple[Style, Ratio]:
    """Validate the options before any pixel work; return the style and ratio they name."""
    preset, shape = check_request(request, StudioBackend.tasks)
    style = style_for(preset.key, request.white_shadow)
    return (style if request.fill is None else replace(style, fill=request.fill)), shape


def check_request(request: RenderRequest, tasks: frozenset[str]) -> tuple[Backdrop, Ratio]:
    """The checks every backend makes first: task, preset, ratio, variant count, image mode."""
    if request.task not in tasks:
        raise InvalidOption(value=request.task)
    preset, shape = backdrop(request.preset), request.shape or ratio(request.ratio)
    if request.variants not in VARIANT_CHOICES or isinstance(request.variants, bool):
        raise InvalidOption(value=request.variants)
    if request.image.mode != "RGB":
        raise ValueError(f"RenderRequest.image must be RGB (from load_image), not {request.image.mode}")
    return preset, shape


def fit_product(image: Image.Image, cutout: Cutout, shape: Ratio, fill: float) -> tuple[np.ndarray, Cutout, Fit]:
    """The product's pixels and cut-out at the scale its format needs (the photo's own at scale 1), and that fit."""
    x0, y0, x1, y1 = cutout.box
    framing = fit((x1 - x0, y1 - y0), shape, fill)
    if framing.scale == 1:
        return np.asarray(image), cutout, framing
    return *resampled(image, cutout, scaled((x1 - x0, y1 - y0), framing.scale)), framing


def render_variant(
    pixels: np.ndarray,
    cutout: Cutout,
    style: Style,
    shape: Ratio,
    seed: int,
    framing: Fit | None = None,
    overhead: bool = False,
) -> RenderedImage:
    """One output image in the seed's look, seen from the front or from above (a flat lay): lay out
    (on `framing`'s canvas, else one sized around the product), paint the backdrop, shadow, paste the product back."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = cutout.box
    size = framing.size if framing else None
    placement = place_product((x1 - x0, y1 - y0), shape, style.floor, style.fill, size, overhead)
    (left, top), size = placement.origin, placement.size
    foot = compositing.foot_span(cutout)
    stage = Stage(
        size, (left, top, left + x1 - x0, top + y1 - y0), (left + foot[0], left + foot[1]), look_of(seed), overhead
    )
    canvas = style.paint(stage, rng)
    if style.shadow:
        alpha = compositing.place_alpha(cutout, placement.origin, size)
        compositing.apply_shadow(canvas, compositing.shadow_map(alpha, stage), style.shadow)
    if style.reflection and not overhead:
        compositing.add_reflection(canvas, pixels, cutout, placement.origin, style.reflection)
    output, protect = compositing.paste_product(canvas, pixels, cutout, placement.origin)
    return RenderedImage(
        Image.fromarray(output),
        seed,
        Image.fromarray(protect),
        (left - x0, top - y0),
        framing.scale if framing else 1.0,
    )
