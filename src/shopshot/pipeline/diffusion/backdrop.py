"""Task "backdrop": the product, cut out and placed like the studio backend does, in a generated scene.

1. Cut the product out, resample it if its format needs (`fit_product`), and lay it out on the
   target canvas (`place_product`); the studio painter's scene for the preset is the init image, so
   the colours and the floor line start right.
2. Repaint everything but the product's opaque core (under a see-through lens too), guided by the
   preset's prompt and, for presets that want it, by the depth of the painted layout (a floor, a
   podium, a table edge).
3. At full size: a contact shadow, the product's own pixels pasted back through its matte, a little
   of the new light wrapped over its rim (never inside `protect`).
"""

from functools import partial

import cv2
import numpy as np
from PIL import Image

from shopshot.pipeline import compositing
from shopshot.pipeline.backdrops import Stage, look_of, style_for
from shopshot.pipeline.cutout import Cutout
from shopshot.pipeline.diffusion.masks import grow, ring_width, shrink
from shopshot.pipeline.diffusion.prompts import backdrop_prompts
from shopshot.pipeline.diffusion.scene import Plan
from shopshot.pipeline.layout import ratio
from shopshot.pipeline.matte import NeuralStage, product_cutout
from shopshot.pipeline.presets import backdrop
from shopshot.pipeline.studio import RenderedImage, RenderRequest, fit_product, render_variant
from shopshot.pipeline.viewpoint import seen_from_above

# The generated scene often brings its own soft shadow; ours only grounds the product.
SHADOW_SHARE = 0.6
LIGHT_WRAP = 0.25
# The wrap's weight (below) is under 1/255 past this many pixels from the outline.
WRAP_REACH = 5


def plan_backdrop(request: RenderRequest, models: object, neural: NeuralStage | None = None) -> Plan:
    """Lay the product out on the canvas (cut out by the neural matte when one is loaded) and describe the scene to generate around it."""
    preset = backdrop(request.preset)
    style = style_for(preset.key, request.white_shadow)
    shape = ratio(request.ratio)
    cutout = product_cutout(request.image, request.keep, neural)
    overhead = seen_from_above(np.asarray(request.image), cutout)  # judged on the whole photo, before any resample
    pixels, cutout, framing = fit_product(request.image, cutout, shape, style.fill)
    layout = render_variant(pixels, cutout, style, shape, request.seed, framing, overhead)
    x0, y0, x1, y1 = cutout.box
    origin = (layout.offset[0] + x0, layout.offset[1] + y0)
    size = layout.image.size
    alpha = compositing.place_alpha(cutout, origin, size)
    foot = compositing.foot_span(cutout)
    stage = Stage(
        size,
        (origin[0], origin[1], origin[0] + x1 - x0, origin[1] + y1 - y0),
        (origin[0] + foot[0], origin[0] + foot[1]),
        look_of(request.seed),
        overhead,
    )
    prompt, negative = backdrop_prompts(preset, request.prompt_extra)
    finish = partial(
        _finish,
        pixels=pixels,
        cutout=cutout,
        alpha=alpha,
        stage=stage,
        shadow=style.shadow,
        offset=layout.offset,
        scale=layout.scale,
    )
    # The scene is generated under the edge's ring and under any see-through part (a lens shows it).
    generate = ~shrink(alpha >= 0.5, ring_width(size)) | (alpha < compositing.OPAQUE)
    depth_source = layout.image if preset.depth > 0 else None
    return Plan(layout.image, generate, depth_source, preset.depth, 1.0, prompt, negative, finish)


def _finish(
    generated: np.ndarray,
    seed: int,
    *,
    pixels: np.ndarray,
    cutout: Cutout,
    alpha: np.ndarray,
    stage: Stage,
    shadow: float,
    offset: tuple[int, int],
    scale: float,
) -> RenderedImage:
    """Shadow, paste the product back through its matte, wrap the rim; `protect` stays exact."""
    if shadow:
        compositing.apply_shadow(generated, compositing.shadow_map(alpha, stage), SHADOW_SHARE * shadow)
    scene = generated.copy()
    origin = (stage.box[0], stage.box[1])
    output, protect = compositing.paste_product(generated, pixels, cutout, origin)
    light_wrap(output, scene, alpha, protect > 0)
    return RenderedImage(Image.fromarray(output), seed, Image.fromarray(protect), offset, scale)


def light_wrap(output: np.ndarray, scene: np.ndarray, alpha: np.ndarray, protect: np.ndarray) -> None:
    """Let a little of the scene's blurred light spill over the product's rim, outside `protect`;
    not over a see-through part inside the outline (a lens already shows the scene through it)."""
    rim = (alpha > 0) & ~protect & grow(alpha <= 0, WRAP_REACH)
    if not rim.any():
        return
    glow = cv2.GaussianBlur(scene, (0, 0), 3.0)
    weight = LIGHT_WRAP * (1 - cv2.GaussianBlur(alpha, (0, 0), 1.5))[rim]
    edge = output[rim].astype(np.float32)
    output[rim] = np.clip(np.rint(edge + weight[:, None] * (glow[rim] - edge)), 0, 255).astype(np.uint8)
