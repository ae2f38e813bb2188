"""A task's request turned into one generation problem at full size, and how to finish each result."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from shopshot.pipeline.studio import RenderedImage


@dataclass(frozen=True)
class Plan:
    """What every variant of a request shares; only the seed differs between variants."""

    init: Image.Image  # the full-size canvas the generation starts from
    generate: np.ndarray  # bool, full size: what the model repaints
    depth_source: Image.Image | None  # whose depth guides the scene; None runs without the ControlNet
    depth_scale: float
    depth_until: float  # the share of the steps the depth guides (the rest are free to add detail)
    prompt: str
    negative_prompt: str
    finish: Callable[[np.ndarray, int], RenderedImage]  # (generated float RGB at full size, seed) -> result
    # Overrides the mode's strength; 1.0 starts the repaint area from pure noise, so nothing of the init
    # image's content survives there (the mode's 0.99 keeps ~12% of it: fine for a scene, not for a person).
    strength: float | None = None
    # bool, full size: what a reference image shows (the klein stack); None: what is not repainted
    reference: np.ndarray | None = None
    # The person tasks: the prompt of the face pass (`face.py`), run where the generated image shows a face.
    face_prompt: str | None = None
