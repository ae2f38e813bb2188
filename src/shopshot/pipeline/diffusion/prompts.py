"""Prompts for each task, built from presets and the seller's one-line addition."""

import re
import unicodedata

from shopshot.pipeline.people import ModelPreset
from shopshot.pipeline.presets import Backdrop

EXTRA_LIMIT = 120
_QUALITY = "professional photography, sharp focus, high detail"
_NEGATIVE = "text, watermark, logo, letters, blurry, low quality, jpeg artefacts, distorted, deformed"
_NEGATIVE_SCENE = "people, hands, extra objects, clutter, duplicate product"
_NEGATIVE_PERSON = ("mannequin, dress form, plastic skin, deformed hands, extra fingers, extra limbs, "
                    "distorted face, nsfw, nudity")


def sanitise_extra(text: str) -> str:
    """The seller's addition without control or format characters, one line, at most 120 characters."""
    kept = "".join(" " if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in text)
    return re.sub(r"\s+", " ", kept).strip()[:EXTRA_LIMIT].strip()


def _join(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


def backdrop_prompts(preset: Backdrop, extra: str) -> tuple[str, str]:
    """(prompt, negative_prompt) for the scene around a product on this backdrop."""
    # The seller's words go first: CLIP reads 77 tokens, and what comes last is what gets cut.
    prompt = _join("product photograph", sanitise_extra(extra), preset.prompt, _QUALITY)
    return prompt, _join(preset.negative_prompt, _NEGATIVE_SCENE, _NEGATIVE)


def person_prompts(person: ModelPreset, task: str, extra: str) -> tuple[str, str]:
    """(prompt, negative_prompt) for a fashion model wearing the kept garment."""
    subject = f"{person.prompt}, wearing the outfit" if task == "model" else f"full-body, {person.prompt} wearing the garment, standing"
    prompt = _join("fashion photograph", sanitise_extra(extra), subject, "natural skin texture, detailed face", _QUALITY)
    return prompt, _join(_NEGATIVE_PERSON, _NEGATIVE)
