"""Tasks "model" (model swap) and "mannequin": the garment kept, a person generated around it.

1. Parse the photo into clothes and body parts (SegFormer, the clothes-parsing labels).
2. Keep the garment (`garment.garment_cutout`: refined by the neural matte when one is loaded): it is
   pasted back at the end as the backdrop task pastes its product, exactly inside `protect`.
3. "model": repaint face, hair and skin (head grown so new hair has room), keep the pose and body
   through the photo's depth. "mannequin": repaint everything but the garment, mostly from depth,
   with the backdrop preset's scene behind the person.
4. The backend then gives the new face its own pass (`face.py`): in a full-body shot it is a few
   dozen generated pixels tall.
Both keep the photo's own frame and size: `ratio` is checked but not applied (a new frame would
mean outpainting the person, which these recipes do not do).
"""

from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image

from shopshot.errors import NoProductFound
from shopshot.pipeline import compositing
from shopshot.pipeline.diffusion.garment import garment_cutout
from shopshot.pipeline.diffusion.masks import blend_generated, grow, ring_width, shrink
from shopshot.pipeline.diffusion.prompts import face_prompt, person_prompts
from shopshot.pipeline.diffusion.scene import Plan
from shopshot.pipeline.people import model_preset
from shopshot.pipeline.presets import backdrop
from shopshot.pipeline.studio import RenderedImage, RenderRequest
from shopshot.pipeline.tasks import Task

if TYPE_CHECKING:
    from shopshot.pipeline.diffusion.klein import KleinModels
    from shopshot.pipeline.diffusion.loading import Models
    from shopshot.pipeline.diffusion.perception import ClothesParser
    from shopshot.pipeline.matting.neural import NeuralMatte

GARMENT = ("Upper-clothes", "Skirt", "Pants", "Dress", "Belt", "Scarf")
ACCESSORIES = ("Left-shoe", "Right-shoe", "Bag")
HEAD = ("Hair", "Face", "Sunglasses", "Hat")
LIMBS = ("Left-arm", "Right-arm", "Left-leg", "Right-leg")
LABELS = GARMENT + ACCESSORIES + HEAD + LIMBS  # every label name the tasks ask the clothes parser for
# Below this share of the frame the parser found no garment worth keeping.
MIN_GARMENT = 0.01
# New hair may fall wider than the old: the head's repaint area grows by this share of the long side.
HEAD_ROOM = 0.04
DEPTH = {Task.MODEL: (0.55, 0.8), Task.MANNEQUIN: (0.8, 0.6)}  # (conditioning scale, share of steps)


def plan_person(request: RenderRequest, models: "Models | KleinModels", neural: "NeuralMatte | None" = None) -> Plan:
    """Find the garment (refined by the neural matte when one is loaded) and the body, and describe the person to generate around it."""
    person = model_preset(request.model)
    labels = models.clothes(request.image)
    garment = _largest_parts(models.clothes.mask(labels, GARMENT))
    if garment.mean() < MIN_GARMENT:
        raise NoProductFound()
    size = request.image.size
    keep = garment | (models.clothes.mask(labels, ACCESSORIES) if request.task == Task.MODEL else False)
    cutout = garment_cutout(request.image, keep, neural)
    alpha = compositing.place_alpha(cutout, cutout.box[:2], size)
    # The person is generated under the garment's ring and wherever its edge lets the scene through.
    core = shrink(alpha >= 0.5, ring_width(size)) & (alpha >= compositing.OPAQUE)
    generate = _repaint_area(models.clothes, labels, request.task, size) & ~core
    if not generate.any():
        raise NoProductFound()
    prompt, negative = person_prompts(person, request.task, request.prompt_extra)
    if request.task == Task.MANNEQUIN:
        prompt = f"{prompt}, {backdrop(request.preset).prompt}"
    original = np.asarray(request.image)

    def finish(generated: np.ndarray, seed: int) -> RenderedImage:
        scene = blend_generated(original, generated, generate)
        output, protect = compositing.paste_product(scene, original, cutout, cutout.box[:2])
        return RenderedImage(Image.fromarray(output), seed, Image.fromarray(protect), (0, 0))

    scale, until = DEPTH[request.task]
    # A new person, not the old one retouched: the old face, skin tone or mannequin plastic must not pull.
    return Plan(
        request.image,
        generate,
        request.image,
        scale,
        until,
        prompt,
        negative,
        finish,
        strength=1.0,
        reference=keep,
        face_prompt=face_prompt(person, request.prompt_extra),
    )


def _repaint_area(clothes: "ClothesParser", labels: np.ndarray, task: str, size: tuple[int, int]) -> np.ndarray:
    """Model swap: the head (with room for new hair) and the skin; mannequin: everything."""
    if task == Task.MANNEQUIN:
        return np.ones(labels.shape, bool)
    head = grow(clothes.mask(labels, HEAD), max(1, round(HEAD_ROOM * max(size))))
    area: np.ndarray = head | grow(clothes.mask(labels, LIMBS), ring_width(size))
    return area


def _largest_parts(mask: np.ndarray) -> np.ndarray:
    """The mask without specks: components under a tenth of the largest are dropped."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros(mask.shape, bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    return np.isin(labels, 1 + np.nonzero(areas >= 0.1 * areas.max())[0])
